// QR codes, made offline: the workshop's address on the opening and closing
// slides, and the room's join address on the presenter's screen.
import QRCode from 'qrcode';

/** An SVG image of `text` as a QR code, dark on white, with a quiet zone. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
}

/** `text` as a QR code drawn with block characters, for a terminal. */
export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}
