// tests/e2e/fakesocket.mjs — a scripted stand-in for the browser's WebSocket (node 20 has none),
// shared by the plain-node tests (audiocopy, ws): each instance records what was sent, and when
// by FakeSocket.clock (0 unless the test drives a clock); the test plays the relay's side.
export class FakeSocket {
  static OPEN = 1;
  static all = [];
  static clock = () => 0;

  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = 0;
    this.sent = [];
    this.sentAt = [];
    this.closed = null;
    FakeSocket.all.push(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
    this.sentAt.push(FakeSocket.clock());
  }

  close(code = null) { this.closed = code; this.readyState = 3; }
  open() { this.readyState = 1; this.onopen(); }
  text(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
  binary(buf) { this.onmessage({ data: buf }); }
}
