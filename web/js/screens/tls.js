// The local CA for tablets: a download and the steps for Android and iPad (public, before logging in).
import { h, setText } from "../dom.js";

const STEPS = [
  ["tls.android", ["tls.android1", "tls.android2", "tls.android3", "tls.android4"]],
  ["tls.ipad", ["tls.ipad1", "tls.ipad2", "tls.ipad3", "tls.ipad4"]],
];

export function tlsScreen(shell) {
  shell.main.classList.add("tls-screen");
  const download = h("a.button.primary.block", { href: "/tls/ca.crt", download: "ca.crt", i18n: "tls.download" });
  const fingerprint = h("p.tls-fingerprint", { hidden: true });
  const missing = h("p.form-error", { role: "alert", hidden: true, i18n: "error.tls.no_ca" });

  // The server may have no local CA (plain HTTP, or a certificate from elsewhere): say so instead of a
  // download that would save an error page.
  fetch("/tls/ca.crt", { cache: "no-store" }).then(
    (res) => {
      const sha256 = res.ok && res.headers.get("x-certificate-sha256");
      if (!res.ok) {
        download.hidden = true;
        missing.hidden = false;
      } else if (sha256) {
        fingerprint.hidden = false;
        fingerprint.append(h("span", { i18n: "tls.fingerprint" }), h("code", sha256));
      }
    },
    () => {}
  );

  shell.main.append(
    h(
      "div.tls-wrap",
      h(
        "article.card.tls-card",
        h("h1", { i18n: "tls.title" }),
        h("p", { i18n: "tls.intro" }),
        download,
        missing,
        fingerprint,
        STEPS.map(([title, steps]) =>
          h("section.tls-steps", h("h2", { i18n: title }), h("ol", steps.map((key) => h("li", { i18n: key }))))
        ),
        h("p", h("a", { href: "#/login", i18n: "tls.back" }))
      )
    )
  );
  return null;
}
