// tar-stream 3 reads and writes PAX records (`header.pax`), which its
// published typings leave out.
import 'tar-stream';

declare module 'tar-stream' {
  interface Headers {
    pax?: Record<string, string> | null;
  }
}
