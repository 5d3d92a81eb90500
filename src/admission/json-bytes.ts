// The JSON bytes both scanners of a review body look for (strict-json.ts, envelope.ts).
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COLON = 0x3a;
export const COMMA = 0x2c;

/** Decodes JSON text; the body was checked to be UTF-8 before any span is decoded. */
export const utf8 = new TextDecoder('utf-8');
