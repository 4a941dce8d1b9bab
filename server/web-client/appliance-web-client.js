// Starts Converse.js with the settings the server put on <body> (no inline script: the page's
// Content-Security-Policy allows scripts from this server only).
import converse from "./converse.min.js";

const settings = JSON.parse(document.body.dataset.converseSettings);
const here = new URL(document.baseURI);
const absolute = (path, scheme) => {
  const url = new URL(path, here);
  if (scheme) url.protocol = scheme;
  return url.href;
};

// The stock login page shows sponsor logos fetched from conversejs.org: nothing here may come
// from the internet, so the footer that holds them renders nothing.
const footer = customElements.get("converse-footer");
if (footer) footer.prototype.render = () => "";

converse.initialize({
  ...settings,
  assets_path: absolute("dist/"),
  websocket_url: absolute(settings.websocket_url, "wss:"),
  bosh_service_url: absolute(settings.bosh_service_url),
});
