// Votes: the delegate's vote panel (large buttons, secret/named mark, confirmation, receipt, progress,
// result) and the chair's polls panel (create, open, close, publish).
import { h, clear, append } from "../dom.js";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { busy, toast } from "../ui.js";
import { sheet } from "./panel.js";

const MOTION = ["yes", "no", "abstain"];

function optionLabel(poll, index) {
  return poll.method === "motion" ? t(`vote.${MOTION[index]}`) : poll.options[index];
}

function optionClass(poll, index) {
  return poll.method === "motion" ? `opt-${MOTION[index]}` : "opt-other";
}

function kindMark(poll) {
  return h(`span.kind-mark.kind-${poll.kind}`, { i18n: `vote.kind.${poll.kind}` });
}

function progressLine(cast, eligible) {
  const pct = eligible ? Math.round((cast / eligible) * 100) : 0;
  return h("div.vote-progress", h("div.bar", h("span", { style: { width: `${pct}%` } })), h("span.progress-text", { i18n: ["vote.progress", { cast, eligible }] }));
}

/** A published (or closed, for the chair) result: counts per option, turnout, passed or not. */
export function resultView(poll) {
  const r = poll.result;
  const total = Math.max(1, r.counts.reduce((a, b) => a + b, 0));
  return h(
    "div.result",
    { dataset: { poll: poll.id } },
    h("div.result-head", h("strong.result-question", poll.question), kindMark(poll)),
    h("div.verdict", { class: r.passed ? "passed" : "failed", i18n: r.passed ? "vote.passed" : "vote.notPassed" }),
    h(
      "ul.counts",
      r.counts.map((count, i) =>
        h(
          `li.${optionClass(poll, i)}`,
          h("span.count-label", optionLabel(poll, i)),
          h("span.count-bar", h("span", { style: { width: `${Math.round((count / total) * 100)}%` } })),
          h("strong.count-value", String(count))
        )
      )
    ),
    h("p.muted.small", { i18n: ["vote.turnout", { ballots: r.ballots, eligible: r.eligible }] }, r.quorumRequired ? " · " : "", r.quorumRequired ? h("span", { i18n: r.quorumMet ? "vote.quorumMet" : "vote.quorumNotMet" }) : null),
    poll.kind === "secret" && poll.state === "published" ? receiptCheck(poll) : null,
    r.voters?.length
      ? h("details.voters", h("summary", { i18n: "vote.voters" }), h("ul", r.voters.map((v) => h("li", `${v.displayName}: ${v.choice.map((c) => optionLabel(poll, c)).join(", ") || t("vote.abstain")}`))))
      : null
  );
}

const verdicts = new Map(); // poll id -> {found, text}: survives the panel's re-renders

/** After publication a secret voter can confirm, with their receipt, that their ballot was counted. */
function receiptCheck(poll) {
  const receipt = sessionStorage.getItem(`meeting.receipt.${poll.id}`);
  if (!receipt) return null;
  const show = (el, v) => {
    el.className = `receipt-verdict ${v.found ? "found" : "missing"}`;
    el.textContent = v.text;
  };
  const out = h("p.receipt-verdict", { role: "status", dataset: { poll: poll.id } });
  if (verdicts.has(poll.id)) show(out, verdicts.get(poll.id));
  const button = h("button.secondary", { type: "button", i18n: "vote.verify" });
  button.onclick = () =>
    busy(button, async () => {
      const verdict = await api("POST", `/api/meetings/${poll.meetingId}/polls/${poll.id}/receipts/verify`, { receipt });
      // Counted or not, never which choice: the receipt must not prove a vote to anyone who holds it.
      const text = verdict.found ? t("vote.verified") : t("vote.notFound");
      verdicts.set(poll.id, { found: verdict.found, text });
      // The panel may have been drawn again meanwhile (a poll event): update whichever copy is on screen.
      for (const el of document.querySelectorAll(`.receipt-verdict[data-poll="${poll.id}"]`)) show(el, verdicts.get(poll.id));
    });
  return h("div.receipt-check", button, out);
}

export class VotePanel {
  constructor({ meetingId, panels }) {
    this.meetingId = meetingId;
    this.panels = panels;
    this.poll = null;
    this.status = null; // BallotStatus for the open poll
    this.selected = [];
    this.step = "choose";
    this.result = null; // a published poll to show
    this.el = h("section.panel.vote-panel", { role: "region" });
    this.el.hidden = true;
    panels.append(this.el);
  }

  async update(polls, { canVote }) {
    this.canVote = canVote;
    const open = polls.find((p) => p.state === "open");
    if (open) {
      const isNew = this.poll?.id !== open.id;
      this.poll = open;
      if (isNew) {
        this.selected = [];
        this.step = "choose";
        this.status = null;
        this.result = null;
        if (canVote) {
          try {
            this.status = await api("GET", `/api/meetings/${this.meetingId}/polls/${open.id}/ballots/me`);
          } catch {
            this.status = null;
          }
        }
        if (this.status?.voted) this.step = "done";
      }
    } else if (this.poll) {
      const same = polls.find((p) => p.id === this.poll.id);
      this.poll = same && same.state !== "published" ? same : null;
      if (same?.state === "published" && same.result) this.result = same;
    }
    this.render();
  }

  event(ev) {
    if (ev.type === "poll.progress" && this.poll?.id === ev.pollId) {
      this.poll = { ...this.poll, cast: ev.cast, eligible: ev.eligible };
      this.render();
    } else if (ev.type === "poll.published") {
      this.result = ev.poll;
      this.poll = null;
      this.render();
    }
  }

  render() {
    const target = clear(this.el);
    // append() skips the nulls of optional parts (Element.append would print "null").
    const el = { append: (...parts) => append(target, parts), set className(v) { target.className = v; }, set hidden(v) { target.hidden = v; }, dataset: target.dataset };
    if (this.result && !this.poll) {
      el.hidden = false;
      el.className = "panel vote-panel showing-result";
      el.append(
        h("header.panel-head", h("h3", { i18n: "vote.result" }), h("button.ghost", { type: "button", i18n: "common.close", onclick: () => ((this.result = null), this.render()) })),
        resultView(this.result)
      );
      return;
    }
    const poll = this.poll;
    if (!poll) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.className = `panel vote-panel step-${this.step}`;
    el.dataset.poll = poll.id;
    el.append(h("header.panel-head", h("h3", { i18n: poll.state === "open" ? "vote.open" : "vote.closed" }), kindMark(poll)), h("p.question", poll.question));
    const eligible = this.status?.eligible;
    if (poll.state !== "open") {
      el.append(h("p.muted", { i18n: "vote.waitPublish" }));
    } else if (!this.canVote || eligible === false) {
      el.append(h("p.muted", { i18n: "vote.notEligible" }));
    } else if (this.step === "choose") {
      const multi = poll.maxSelections > 1;
      el.append(
        h(
          "div.vote-options",
          poll.options.map((_, i) =>
            h(`button.vote-option.${optionClass(poll, i)}`, {
              type: "button",
              "aria-pressed": String(this.selected.includes(i)),
              dataset: { option: poll.method === "motion" ? MOTION[i] : i },
              onclick: () => {
                if (!multi) {
                  this.selected = [i];
                  this.step = "confirm";
                } else if (this.selected.includes(i)) this.selected = this.selected.filter((x) => x !== i);
                else if (this.selected.length < poll.maxSelections) this.selected = [...this.selected, i];
                this.render();
              },
            }, optionLabel(poll, i))
          )
        ),
        multi ? h("button.primary.block", { type: "button", i18n: ["vote.next", { n: this.selected.length, max: poll.maxSelections }], onclick: () => ((this.step = "confirm"), this.render()) }) : null
      );
    } else if (this.step === "confirm") {
      const chosen = this.selected.map((i) => optionLabel(poll, i)).join(", ") || t("vote.abstain");
      const castBtn = h("button.primary.cast", { type: "button", i18n: "vote.cast" });
      castBtn.onclick = () =>
        busy(castBtn, async () => {
          const receipt = await api("POST", `/api/meetings/${this.meetingId}/polls/${poll.id}/ballots`, { choice: this.selected });
          if (receipt.receipt) sessionStorage.setItem(`meeting.receipt.${poll.id}`, receipt.receipt);
          this.status = { ...(this.status || {}), voted: true, choice: receipt.choice };
          this.step = "done";
          this.render();
        });
      el.append(
        h("div.confirm", h("p", { i18n: "vote.youChose" }), h(`p.chosen.${this.selected.length === 1 ? optionClass(poll, this.selected[0]) : ""}`, chosen)),
        h("div.confirm-actions", h("button.secondary", { type: "button", i18n: "vote.back", onclick: () => ((this.step = "choose"), this.render()) }), castBtn)
      );
    } else {
      const receipt = sessionStorage.getItem(`meeting.receipt.${poll.id}`);
      el.append(
        h("div.voted", h("p.voted-mark", { i18n: "vote.voted" }),
          poll.kind === "secret"
            ? receipt
              ? h("div.receipt", h("span", { i18n: "vote.receipt" }), h("code.receipt-code", receipt), h("small.muted", { i18n: "vote.receiptHint" }))
              : h("p.muted.small", { i18n: "vote.receiptElsewhere" })
            : null)
      );
    }
    el.append(progressLine(poll.cast, poll.eligible));
  }
}

export class PollsPanel {
  constructor({ meetingId, panels, items, chair, onClose, refresh }) {
    const { el, body } = sheet(panels, "polls-panel", h("h3", { i18n: "chair.polls" }), () => this.close());
    Object.assign(this, { meetingId, items, chair, onClose, refresh, el, body });
  }

  close() {
    this.el.remove();
    this.onClose();
  }

  render(polls) {
    const body = clear(this.body);
    const items = this.items();
    const active = items.find((i) => i.status === "active");
    const itemSelect = h("select", { name: "pollItem" }, items.map((i) => h("option", { value: i.id, selected: i.id === active?.id }, i.title)));
    const question = h("input", { name: "pollQuestion", maxlength: 2000, value: active ? t("vote.defaultQuestion", { title: active.title }) : "" });
    const kind = h("select", { name: "pollKind" }, ["secret", "named", "open"].map((k) => h("option", { value: k, i18n: `vote.kind.${k}` })));
    const rule = h("select", { name: "pollRule" }, ["simple", "absolute", "members", "two_thirds"].map((r) => h("option", { value: r, i18n: `vote.rule.${r}` })));
    itemSelect.onchange = () => {
      const it = items.find((i) => i.id === Number(itemSelect.value));
      if (it) question.value = t("vote.defaultQuestion", { title: it.title });
    };
    const create = h("button.primary", { type: "submit", i18n: "vote.create" });
    const form = (
      h("form.poll-create", {
        onsubmit: (e) => {
          e.preventDefault();
          if (!question.value.trim()) return question.focus();
          busy(create, async () => {
            await api("POST", `/api/meetings/${this.meetingId}/polls`, { itemId: Number(itemSelect.value), question: question.value.trim(), kind: kind.value, rule: rule.value });
            await this.refresh();
          });
        },
      },
      h("h4", { i18n: "vote.new" }),
      h("div.field", h("label", { i18n: "vote.item" }), itemSelect),
      h("div.field", h("label", { i18n: "vote.question" }), question),
      h("div.row2", h("div.field", h("label", { i18n: "vote.kindLabel" }), kind), h("div.field", h("label", { i18n: "vote.ruleLabel" }), rule)),
      h("div.form-actions", create))
    );
    const list = h("ul.poll-list");
    for (const poll of [...polls].reverse()) {
      const act = (action, key, kindClass = "primary") =>
        h(`button.${kindClass}`, { type: "button", i18n: key, dataset: { action }, onclick: (e) => busy(e.currentTarget, async () => {
          await api("POST", `/api/meetings/${this.meetingId}/polls/${poll.id}/${action}`);
          toast(t(`vote.done.${action}`));
          await this.refresh();
        }) });
      list.append(
        h("li", { dataset: { poll: poll.id, state: poll.state } },
          h("div.poll-line", h("strong", poll.question), kindMark(poll), h(`span.badge.poll-${poll.state}`, { i18n: `vote.state.${poll.state}` })),
          poll.state === "open" ? progressLine(poll.cast, poll.eligible) : null,
          poll.result ? resultView(poll) : null,
          this.chair
            ? h("div.poll-actions",
                poll.state === "draft" ? act("open", "vote.openPoll") : null,
                poll.state === "open" ? act("close", "vote.closePoll") : null,
                poll.state === "closed" ? act("publish", "vote.publish") : null)
            : null)
      );
    }
    // The chair's next action (open, close, publish) first; a new poll below.
    body.append(h("h4", { i18n: "vote.list" }), polls.length ? list : h("p.muted", { i18n: "vote.noPolls" }), form);
  }
}
