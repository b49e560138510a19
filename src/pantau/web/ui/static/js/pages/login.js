// The login page: username and password, language switch, the server's own error message.

import { h } from "../dom.js";

export function mount(root, ctx) {
  const { t } = ctx;
  const error = h("p", { class: "login-error", role: "alert", id: "login-error" }, ctx.message || "");
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", id: "login-submit" }, t("login.submit"));
  const form = h(
    "form",
    {
      class: "login-card",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          const out = await ctx.api.post("auth/login", { username: username.value.trim(), password: password.value });
          ctx.done(out.user);
        } catch (failure) {
          error.textContent = failure.status === 401 ? t("login.wrong") : failure.message;
          submit.disabled = false;
          password.select();
        }
      },
    },
    h("h1", {}, "Pantau"),
    h("p", { class: "subtitle" }, `${t("shell.title")} · ${ctx.config.city}`),
    h("label", { for: "username" }, t("login.username")),
    username,
    h("label", { for: "password" }, t("login.password")),
    password,
    submit,
    error,
    h(
      "p",
      { class: "login-lang" },
      ctx.languages.map((code) =>
        h("button", { type: "button", class: code === ctx.lang ? "link active" : "link", "data-lang": code, onclick: () => ctx.switchLanguage(code) }, t(`lang.${code}`)),
      ),
    ),
    h("p", { class: "privacy" }, t("login.privacy")),
  );
  root.append(h("div", { class: "login-page" }, form));
}
