// Meeting materials in the editor: upload with a progress bar, then render progress, then the pages.
import { h, clear, field } from "../dom.js";
import { api, upload, errorText } from "../api.js";
import { t } from "../i18n.js";
import { showError, busy, confirmAction, toast } from "../ui.js";
import { pageUrl } from "../viewer.js";
import { signDialog, signingSources } from "./signing.js";

// What the file picker offers: PDF, scans, and the Office files the server converts with LibreOffice
// (a server without it answers 415 document.office_unavailable, which the error text explains).
const DOCUMENT_TYPES = [
  "application/pdf", "image/jpeg", "image/png",
  ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".doc", ".xls", ".ppt",
].join(",");

export function documentsTab({ meeting, body }) {
  const manage = ["chair", "secretary"].includes(meeting.myRole) || meeting.myRole == null;
  // A signature is personal: only the meeting's chair signs resolutions, not an administrator for them.
  const signer = meeting.myRole === "chair";
  const list = h("ul.doc-list");
  const pages = h("div.doc-pages");
  let items = [];
  let documents = [];
  let polling = null;
  let selected = null;

  const file = h("input.visually-hidden", { type: "file", name: "file", id: "doc-file", accept: DOCUMENT_TYPES, multiple: true });
  // The browser's own file button speaks the browser's language; this one speaks the user's.
  const chosen = h("span.file-chosen.muted", { i18n: "documents.noFile" });
  const picker = h("div.file-picker", h("label.button.secondary", { for: "doc-file", i18n: "documents.choose" }), chosen, file);
  file.addEventListener("change", () => {
    if (file.files.length) chosen.textContent = [...file.files].map((f) => f.name).join(", ");
    else chosen.textContent = t("documents.noFile");
  });
  const title = h("input", { name: "docTitle", maxlength: 200 });
  const item = h("select", { name: "docItem" });
  // Only confidential documents are stamped "Tài liệu mật" when downloaded; ordinary is the default.
  const classification = h(
    "select",
    { name: "docClassification" },
    h("option", { value: "ordinary", i18n: "documents.classification.ordinary" }),
    h("option", { value: "confidential", i18n: "documents.classification.confidential" })
  );
  const bar = h("div.upload-bar", h("span"));
  const status = h("p.upload-status", { role: "status" });
  const send = h("button.primary", { type: "submit", i18n: "documents.upload" });
  const progress = h("div.upload-progress", { hidden: true }, bar, status);

  const form = h(
    "form.card.upload-form",
    {
      onsubmit: (e) => {
        e.preventDefault();
        if (!file.files.length) return file.focus();
        const data = new FormData();
        for (const f of file.files) data.append("file", f, f.name);
        if (item.value) data.append("agendaItemId", item.value);
        if (title.value.trim()) data.append("title", title.value.trim());
        data.append("classification", classification.value);
        busy(send, async () => {
          if (!(await sendFiles(`/api/meetings/${meeting.id}/documents`, data))) return;
          file.value = "";
          title.value = "";
          classification.value = "ordinary";
          chosen.textContent = t("documents.noFile");
        });
      },
    },
    h("h3", { i18n: "documents.uploadTitle" }),
    h("div.upload-row", h("div.field", h("span.label", { i18n: "documents.file" }), picker, h("small.hint", { i18n: "documents.fileHint" })), field("documents.item", item), field("documents.title", title), field("documents.classification", classification), send),
    progress
  );

  function setBar(fraction, text) {
    bar.firstChild.style.width = `${Math.round(fraction * 100)}%`;
    status.textContent = text;
  }

  /** Upload a new document or a new version under the bar, then follow its pages' rendering; a refusal
   * is told under the bar. Resolves to the document, or null when refused. */
  async function sendFiles(url, data) {
    progress.hidden = false;
    progress.className = "upload-progress";
    setBar(0, t("documents.uploading", { pct: 0 }));
    let doc;
    try {
      doc = await upload(url, data, (f) => setBar(f, t("documents.uploading", { pct: Math.round(f * 100) })));
    } catch (err) {
      progress.className = "upload-progress failed";
      status.textContent = errorText(err);
      return null;
    }
    setBar(0, t("documents.rendering", { done: doc.currentVersion.renderedPages, total: doc.currentVersion.pageCount }));
    await load();
    select(doc.id);
    watch(doc.id);
    return doc;
  }

  // Render progress: poll the status endpoint until every page is rendered (the editor has no socket).
  function watch(id) {
    clearInterval(polling);
    polling = setInterval(async () => {
      try {
        const p = await api("GET", `/api/meetings/${meeting.id}/documents/${id}/status`);
        setBar(p.pageCount ? p.renderedPages / p.pageCount : 1, p.done ? t("documents.ready", { total: p.pageCount }) : t("documents.rendering", { done: p.renderedPages, total: p.pageCount }));
        if (p.done) {
          clearInterval(polling);
          progress.className = "upload-progress done";
          await load();
        }
      } catch {
        clearInterval(polling);
      }
    }, 600);
  }

  body.append(h("div.documents", manage ? form : null, h("div.doc-columns", h("section.card", h("h3", { i18n: "editor.tab.documents" }), list), pages)));

  async function load() {
    try {
      [items, documents] = await Promise.all([api("GET", `/api/meetings/${meeting.id}/agenda/`), api("GET", `/api/meetings/${meeting.id}/documents`)]);
    } catch (err) {
      showError(err);
      return;
    }
    const keep = item.value;
    clear(item).append(h("option", { value: "", i18n: "documents.noItem" }), ...items.map((i) => h("option", { value: i.id }, i.title)));
    item.value = keep;
    renderList();
    if (selected) select(selected);
  }

  function renderList() {
    clear(list);
    if (!documents.length) list.append(h("li.muted", { i18n: "documents.none" }));
    for (const d of documents) {
      const v = d.currentVersion;
      const itemTitle = items.find((i) => i.id === d.agendaItemId)?.title;
      list.append(
        h(
          `li${d.id === selected ? ".selected" : ""}`,
          { dataset: { id: d.id } },
          h("button.doc-pick", { type: "button", onclick: () => select(d.id) },
            h("img.doc-thumb", { src: pageUrl(v, 1, 200), alt: "", loading: "lazy" }),
            h("span.doc-meta", h("strong", d.title, ...badges(d)), h("span.muted.small", itemTitle || t("documents.noItem")),
              h("span.muted.small", { i18n: ["documents.pagesRendered", { n: v.pageCount, done: v.renderedPages }] }))),
          // The actions get a row of their own: beside the title they squeezed it to a word a line.
          manage
            ? h("span.doc-actions", signer && d.resolution && !v.signed ? signButton(d) : null, replaceButton(d), classificationButton(d), resolutionButton(d),
                h("button.ghost.danger", { type: "button", i18n: "common.delete", onclick: (e) => busy(e.currentTarget, async () => {
                  if (!(await confirmAction("documents.confirmDelete", { title: d.title }, "common.delete", true))) return;
                  await api("DELETE", `/api/meetings/${meeting.id}/documents/${d.id}`);
                  if (selected === d.id) selected = null;
                  toast(t("common.saved"));
                  await load();
                }) }))
            : null
        )
      );
    }
  }

  function badges(d) {
    return [
      d.classification === "confidential" ? h("span.badge.confidential", { i18n: "documents.confidentialBadge" }) : null,
      d.resolution ? h("span.badge.resolution", { i18n: "documents.resolutionBadge" }) : null,
      // The current version was made by the chair's signature (an upload after it is a new, unsigned draft).
      d.resolution && d.currentVersion.signed ? h("span.badge.signed", { i18n: "documents.signedBadge" }) : null,
    ];
  }

  // Marks a document as one of the council's resolutions, which the chair then signs.
  function resolutionButton(d) {
    return h("button.ghost", {
      type: "button",
      i18n: d.resolution ? "documents.unmarkResolution" : "documents.markResolution",
      onclick: (e) => busy(e.currentTarget, async () => {
        await api("PATCH", `/api/meetings/${meeting.id}/documents/${d.id}`, { resolution: !d.resolution });
        toast(t("common.saved"));
        await load();
      }),
    });
  }

  // The chair's signature: the signed PDF becomes the next version; the unsigned draft stays readable.
  function signButton(d) {
    return h("button.primary", {
      type: "button",
      i18n: "signing.sign",
      onclick: (e) => busy(e.currentTarget, async () => {
        const doc = await signDialog({
          titleKey: "documents.signTitle",
          titleParams: { title: d.title },
          sources: await signingSources(meeting.id),
          url: `/api/meetings/${meeting.id}/documents/${d.id}/sign`,
        });
        if (!doc) return;
        toast(t("documents.signed", { n: doc.currentVersion.number }));
        progress.hidden = false;
        progress.className = "upload-progress";
        await load();
        select(doc.id);
        watch(doc.id);
      }),
    });
  }

  // One tap between ordinary and confidential; the next download follows.
  function classificationButton(d) {
    const next = d.classification === "confidential" ? "ordinary" : "confidential";
    return h("button.ghost", {
      type: "button",
      i18n: next === "confidential" ? "documents.markConfidential" : "documents.markOrdinary",
      onclick: (e) => busy(e.currentTarget, async () => {
        await api("PATCH", `/api/meetings/${meeting.id}/documents/${d.id}`, { classification: next });
        toast(t("common.saved"));
        await load();
      }),
    });
  }

  // A new version keeps the old one readable (with its annotations); the room is told.
  function replaceButton(d) {
    const input = h("input.visually-hidden", { type: "file", accept: DOCUMENT_TYPES, multiple: true });
    const button = h("button.ghost", { type: "button", i18n: "documents.replace", onclick: () => input.click() });
    input.addEventListener("change", () => {
      if (!input.files.length) return;
      const data = new FormData();
      for (const f of input.files) data.append("file", f, f.name);
      input.value = "";
      busy(button, async () => {
        const doc = await sendFiles(`/api/meetings/${meeting.id}/documents/${d.id}/versions`, data);
        if (doc) toast(t("documents.replaced", { n: doc.currentVersion.number }));
      });
    });
    return h("span", button, input);
  }

  function select(id) {
    selected = id;
    for (const li of list.children) li.classList.toggle("selected", Number(li.dataset.id) === id);
    const d = documents.find((x) => x.id === id);
    clear(pages);
    if (!d) return;
    const v = d.currentVersion;
    // A version made from another file (an Office file, a damaged PDF stored repaired) keeps that file
    // for the chair and secretary, as it was received (the cookie authenticates the download).
    const original = manage && v.originalName
      ? h("p.doc-original.small", h("a", {
          href: `/api/meetings/${meeting.id}/documents/${d.id}/download?original=true&version=${v.id}`,
          download: v.originalName,
        }, t("documents.original", { name: v.originalName })))
      : null;
    pages.append(
      h("h3", d.title),
      original,
      h("div.page-grid", Array.from({ length: v.pageCount }, (_, i) => h("figure.page-tile", h("img", { src: pageUrl(v, i + 1, 200), alt: t("viewer.page", { n: i + 1 }), loading: "lazy" }), h("figcaption", String(i + 1)))))
    );
  }

  load();
  return { unmount: () => clearInterval(polling) };
}
