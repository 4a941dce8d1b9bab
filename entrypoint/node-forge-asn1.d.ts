// node-forge's DER encoder on its own (lib/asn1.js exports forge.asn1); @types/node-forge only
// declares the whole package.
declare module "node-forge/lib/asn1.js" {
  import type Forge from "node-forge";
  const asn1: typeof Forge.asn1;
  export default asn1;
}
