// Login: username and password; the error is shown under the form in the current language.
import { h, setText, setAttr } from "../dom.js";
import { api, session, errorText } from "../api.js";

export function loginScreen(shell, _params, { navigate }) {
  shell.main.classList.add("login-screen");
  const username = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p.form-error", { role: "alert", hidden: true });
  const submit = h("button.primary.block", { type: "submit", i18n: "login.submit" });
  let lastError = null;

  const form = h(
    "form.card.login-card",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        if (!username.value.trim() || !password.value) {
          showError(null, "login.missing");
          return;
        }
        submit.disabled = true;
        try {
          const res = await api("POST", "/api/auth/login", { username: username.value.trim(), password: password.value });
          session.save(res.access_token, res.user);
          const next = sessionStorage.getItem("meeting.afterLogin");
          sessionStorage.removeItem("meeting.afterLogin");
          navigate(next && next !== "#/login" ? next : "#/");
        } catch (err) {
          showError(err);
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("div.login-mark", "◧"),
    h("h1", { i18n: "app.name" }),
    h("p.muted", { i18n: "login.intro" }),
    h("div.field", h("label", { for: "login-username", i18n: "login.username" }), Object.assign(username, { id: "login-username" })),
    h("div.field", h("label", { for: "login-password", i18n: "login.password" }), Object.assign(password, { id: "login-password" })),
    error,
    submit
  );

  function showError(err, key) {
    lastError = err || key;
    error.hidden = false;
    if (key) setText(error, key);
    else error.textContent = errorText(err);
  }

  // Tablets that warn about the secure address install the room's certificate from here.
  const tlsHelp = h("p.login-tls", h("a", { href: "#/tls", i18n: "login.tlsHelp" }));
  shell.main.append(h("div.login-wrap", h("div.login-column", form, tlsHelp)));
  setAttr(username, "placeholder", "login.usernamePlaceholder");
  username.focus();
  return {
    onLang() {
      // Server errors are not data-i18n labels: translate the one on screen again.
      if (lastError && !error.hidden && typeof lastError !== "string") error.textContent = errorText(lastError);
    },
  };
}
