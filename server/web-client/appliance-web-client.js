// Starts Converse.js with the settings the server put on <body> (no inline script: the page's
// Content-Security-Policy allows scripts from this server only).

// The stock login page shows sponsor logos fetched from conversejs.org: nothing here may come
// from the internet, so the footer that holds them renders nothing. Patched before Converse
// defines it (hence the dynamic import below).
const define = customElements.define.bind(customElements);
customElements.define = (name, element, options) => {
  if (name === "converse-footer") element.prototype.render = () => "";
  return define(name, element, options);
};
const { default: converse } = await import("./converse.min.js");

const settings = JSON.parse(document.body.dataset.converseSettings);
const here = new URL(document.baseURI);
const absolute = (path, scheme) => {
  const url = new URL(path, here);
  if (scheme) url.protocol = scheme;
  return url.href;
};

converse.initialize({
  ...settings,
  assets_path: absolute("dist/"),
  websocket_url: absolute(settings.websocket_url, "wss:"),
  bosh_service_url: absolute(settings.bosh_service_url),
});
