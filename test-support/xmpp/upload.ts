import { httpsRequest, type HttpsRequestOptions, type HttpsResponse } from "../https-request.js";
import { xml, type XmlElement, type XmppTestClient } from "./connect-client.js";

export const NS_UPLOAD = "urn:xmpp:http:upload:0";

export interface UploadSlot {
  putUrl: string;
  /** Headers the client must send with the PUT (XEP-0363 allows Authorization, Cookie, Expires). */
  putHeaders: Record<string, string>;
  getUrl: string;
}

export interface SlotRefusal {
  condition: string;
  text: string;
  /** <max-file-size/> from <file-too-large/>, when the server said. */
  maxFileSize?: number;
  error: string;
}

/** XEP-0363 slot request; resolves with the slot, or with the refusal the server gave. */
export async function requestSlot(
  client: XmppTestClient,
  service: string,
  file: { filename: string; size: number; contentType: string },
): Promise<{ slot: UploadSlot } | { refused: SlotRefusal }> {
  let result: XmlElement;
  try {
    result = await client.iq(
      xml("iq", { type: "get", to: service }, xml("request", { xmlns: NS_UPLOAD, filename: file.filename, size: String(file.size), "content-type": file.contentType })),
    );
  } catch (failure) {
    const error = ((failure as Error).cause as { element?: XmlElement } | undefined)?.element;
    if (!error) throw failure;
    const [condition] = error.getChildElements();
    const maxFileSize = error.getChild("file-too-large", NS_UPLOAD)?.getChildText("max-file-size");
    return {
      refused: {
        condition: condition?.name ?? "",
        text: error.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "",
        ...(maxFileSize ? { maxFileSize: Number(maxFileSize) } : {}),
        error: error.toString(),
      },
    };
  }
  const slot = result.getChild("slot", NS_UPLOAD);
  const put = slot?.getChild("put");
  const get = slot?.getChild("get");
  if (!put?.attrs.url || !get?.attrs.url) throw new Error(`${service} answered without a usable slot: ${result.toString()}`);
  return {
    slot: {
      putUrl: put.attrs.url,
      putHeaders: Object.fromEntries(put.getChildren("header").map((header) => [header.attrs.name ?? "", header.text()])),
      getUrl: get.attrs.url,
    },
  };
}

/** The client's PUT of `body` to a slot, over verified HTTPS, with the headers the slot asks for. */
export function putToSlot(slot: UploadSlot, body: Buffer, contentType: string, https: Pick<HttpsRequestOptions, "caPem" | "portMap">): Promise<HttpsResponse> {
  return httpsRequest(slot.putUrl, {
    ...https,
    method: "PUT",
    headers: { ...slot.putHeaders, "content-type": contentType, "content-length": String(body.length) },
    body,
  });
}
