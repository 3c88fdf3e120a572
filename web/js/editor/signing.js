// Digital signatures of the approved minutes, in the editor's head: who has signed, and a "Sign"
// button for whoever signs next (the secretary first, then the chair). The certificate is the signer's
// own .p12/.pfx file, read in the browser and sent with this one request, or a key the server holds.
import { h, append, field } from "../dom.js";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { dialog, busy, toast, showError } from "../ui.js";

const ORDER = ["secretary", "chair"];

/** A placeholder filled once the minutes' copies are loaded; `onSigned` redraws the head. */
export function signingSteps(meeting, onSigned) {
  const box = h("span.signing-steps");
  api("GET", `/api/meetings/${meeting.id}/minutes`)
    .then((state) => append(box, render(meeting, state, onSigned)))
    .catch(showError);
  return box;
}

function render(meeting, state, onSigned) {
  const signed = new Set(state.copies.map((c) => c.signerRole).filter(Boolean));
  const marks = ORDER.filter((role) => signed.has(role)).map((role) =>
    h("span.badge.minutes-approved", { i18n: `minutes.signedBy.${role}` })
  );
  const next = ORDER.find((role) => !signed.has(role));
  const mine = next && next === meeting.myRole;
  const button = mine
    ? h("button.primary", { type: "button", i18n: "minutes.sign", onclick: (e) => busy(e.currentTarget, () => sign(meeting, state, onSigned)) })
    : null;
  return [...marks, button];
}

async function sign(meeting, state, onSigned) {
  const sources = state.signingSources;
  const choice = h("select", { name: "source" }, sources.map((s) => h("option", { value: s, i18n: `minutes.source.${s}` })));
  const file = h("input", { type: "file", name: "pkcs12", accept: ".p12,.pfx,application/x-pkcs12" });
  const password = h("input", { type: "password", name: "password", autocomplete: "off" });
  const fileField = field("minutes.certificateFile", file);
  const showFile = () => (fileField.hidden = choice.value !== "pkcs12");
  choice.onchange = showFile;
  showFile();
  const body = h("div.sign-form", sources.length > 1 ? field("minutes.source", choice) : null, fileField, field("minutes.password", password, "minutes.passwordHint"));
  const go = await dialog({
    titleKey: "minutes.signTitle",
    titleParams: { title: meeting.title },
    body,
    buttons: [
      { key: "common.cancel", value: false },
      { key: "minutes.sign", value: true, kind: "primary" },
    ],
  });
  if (!go) return;
  const data = { source: choice.value, password: password.value };
  if (choice.value === "pkcs12" && file.files[0]) data.pkcs12 = await base64(file.files[0]);
  try {
    await api("POST", `/api/meetings/${meeting.id}/minutes/sign`, data);
  } catch (err) {
    showError(err);
    return;
  }
  toast(t("minutes.signed"));
  onSigned();
}

/** A file's bytes as base64, which is how the JSON API carries them. */
async function base64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
