// Digital signatures of the approved minutes, in the editor's head: who has signed, and a "Sign"
// button for whoever signs next (the secretary first, then the chair). The certificate is the signer's
// own .p12/.pfx file, read in the browser and sent with this one request, or a key the server holds.
// `signDialog` is the one signing dialog: resolutions (editor/documents.js) use it too.
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
  const signed = await signDialog({
    titleKey: "minutes.signTitle",
    titleParams: { title: meeting.title },
    sources: state.signingSources,
    url: `/api/meetings/${meeting.id}/minutes/sign`,
  });
  if (!signed) return;
  toast(t("minutes.signed"));
  onSigned();
}

/** How signers may sign on this server (a server setting, stated with the minutes' state). */
export async function signingSources(meetingId) {
  return (await api("GET", `/api/meetings/${meetingId}/minutes`)).signingSources;
}

/**
 * The one signing dialog, for the minutes and for resolutions: where the key comes from, the
 * certificate file, the password; then POST to `url`. Resolves to the server's answer, or null when
 * cancelled or refused (the refusal is shown).
 */
export async function signDialog({ titleKey, titleParams, sources, url }) {
  const choice = h("select", { name: "source" }, sources.map((s) => h("option", { value: s, i18n: `signing.source.${s}` })));
  const file = h("input", { type: "file", name: "pkcs12", accept: ".p12,.pfx,application/x-pkcs12" });
  const password = h("input", { type: "password", name: "password", autocomplete: "off" });
  const fileField = field("signing.certificateFile", file);
  const showFile = () => (fileField.hidden = choice.value !== "pkcs12");
  choice.onchange = showFile;
  showFile();
  const body = h("div.sign-form", sources.length > 1 ? field("signing.source", choice) : null, fileField, field("signing.password", password, "signing.passwordHint"));
  const go = await dialog({
    titleKey,
    titleParams,
    body,
    buttons: [
      { key: "common.cancel", value: false },
      { key: "signing.sign", value: true, kind: "primary" },
    ],
  });
  if (!go) return null;
  const data = { source: choice.value, password: password.value };
  if (choice.value === "pkcs12" && file.files[0]) data.pkcs12 = await base64(file.files[0]);
  try {
    return await api("POST", url, data);
  } catch (err) {
    showError(err);
    return null;
  }
}

/** A file's bytes as base64, which is how the JSON API carries them. */
async function base64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
