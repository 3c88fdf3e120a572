// Annotation commands: a stroke or note shows at once and is kept, waiting, until the server stores it;
// an erase shows at once and is undone when refused; the viewed version's list is loaded on demand.
import { api, errorText } from "../api.js";
import { toast, showError } from "../ui.js";

function newId() {
  // crypto.randomUUID needs a secure context; a tablet on http://192.168.x.y is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `send(msg, options)` is the room's (a promise of the ack); `dispatch(event)` applies a local event;
 * `current()` is the screen's state. */
export function annotationCommands({ meetingId, send, dispatch, current }) {
  return {
    /** A draft from the viewer (kind, page, payload) becomes an annotation of the viewed version. */
    draw(draft) {
      const { you, visibility, view } = current();
      const { doc } = view;
      const a = { id: newId(), documentId: doc.id, versionId: doc.version.id, page: draft.page, kind: draft.kind, visibility, payload: draft.payload };
      dispatch({ type: "annotation.drawn", annotation: { ...a, authorId: you, deleted: false } });
      send({ type: "annotation.add", ...a }, { keep: true })
        .then((stored) => dispatch({ type: "annotation.acked", id: a.id, annotation: stored }))
        .catch((err) => {
          dispatch({ type: "annotation.refused", id: a.id });
          toast(errorText(err), "error");
        });
    },

    erase(a) {
      // Shown at once as the room will report it; shown again as it was if the server refuses.
      dispatch({ type: "annotation.delete", annotation: { ...a, deleted: true } });
      send({ type: "annotation.delete", id: a.id }, { keep: true }).catch((err) => {
        dispatch({ type: "annotation.update", annotation: a });
        toast(errorText(err), "error");
      });
    },

    /** Load the viewed version's shared and own annotations (a snapshot or a replay carries no private ones). */
    async reload() {
      const { view } = current();
      if (!view) return;
      const { doc } = view;
      try {
        const res = await api("GET", `/api/meetings/${meetingId}/documents/${doc.id}/versions/${doc.version.id}/annotations`);
        dispatch({ type: "annotations.loaded", documentId: doc.id, versionId: doc.version.id, annotations: res.pages.flatMap((p) => p.annotations) });
      } catch (err) {
        showError(err);
      }
    },
  };
}
