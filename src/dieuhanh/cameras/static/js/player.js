// One camera in one <div>, for every camera view: fMP4 over a WebSocket into MediaSource (HLS in
// browsers without MediaSource), an overlay that says what plays and, in words, what went wrong,
// and reconnects that never give up (peers' players giving up after the first drop is the
// complaint operators make most).
import { api, t } from './app.js';

const PROBES = {
  avc1: 'video/mp4; codecs="avc1.42E01E"',
  hvc1: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
};
const CODEC_NAMES = { h264: 'H.264', h265: 'H.265' };
const MAX_LAG = 1.5; // seconds behind the buffered end before jumping to the live edge
const EDGE = 0.2; // where the jump lands, before the buffered end
const KEEP = 10; // seconds of buffer kept behind the playhead
const RETRY_MIN = 1000;
const RETRY_MAX = 30000;
const SILENT_MS = 45000; // an open socket that sends nothing this long is dead (the gateway
// itself closes after 30 s without a keyframe, or sooner with the reason a camera is unreachable)
const NO_PICTURE_MS = 12000; // media appended but nothing shown: the decoder is not coping
const HIDDEN_MS = 20000; // a hidden tab stops its streams after this long (transcodes cost a core)
const POSTER_MS = 15000; // the snapshot poster is refreshed this often while no video plays

// ---- The init segment: which codec string MediaSource needs (gateway/fmp4.py is the reference)

function* boxes(bytes, start, end) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = start;
  while (position + 8 <= end) {
    let size = view.getUint32(position);
    let header = 8;
    if (size === 1 && position + 16 <= end) {
      size = Number(view.getBigUint64(position + 8));
      header = 16;
    } else if (size === 0) {
      size = end - position;
    }
    if (size < header || position + size > end) return;
    const type = String.fromCharCode(...bytes.subarray(position + 4, position + 8));
    yield { type, start: position, body: position + header, end: position + size };
    position += size;
  }
}

function find(bytes, path, start = 0, end = bytes.length) {
  for (const box of boxes(bytes, start, end)) {
    if (box.type === path[0]) return path.length === 1 ? box : find(bytes, path.slice(1), box.body, box.end);
  }
  return null;
}

const hex = (values) => Array.from(values, (v) => v.toString(16).toUpperCase().padStart(2, '0')).join('');

function hevcCodecString(kind, bytes, config) {
  if (!config) return `${kind}.1.6.L93.B0`;
  const b = bytes.subarray(config.body, config.end);
  const space = (b[1] >> 6) & 0x3;
  const tier = (b[1] >> 5) & 0x1 ? 'H' : 'L';
  const compatibility = new DataView(b.buffer, b.byteOffset + 2, 4).getUint32(0);
  let reversed = 0;
  for (let bit = 0; bit < 32; bit += 1) reversed = (reversed * 2) + ((compatibility >>> bit) & 1);
  let constraints = Array.from(b.subarray(6, 12));
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  constraints = constraints.map((v) => v.toString(16).toUpperCase());
  const parts = [kind, `${space ? 'ABC'[space - 1] : ''}${b[1] & 0x1f}`,
    reversed.toString(16).toUpperCase(), `${tier}${b[12]}`];
  return [...parts, ...(constraints.length ? constraints : ['B0'])].join('.');
}

export function isInitSegment(bytes) {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp';
}

// {codec: "h264"|"h265", codecString, mime} of an init segment (ftyp + moov). The mime names
// the audio too when there is an AAC track (gateway.audio = pass): MediaSource rejects an init
// segment with a track its codecs string does not list.
export function codecOfInit(bytes) {
  const moov = find(bytes, ['moov']);
  if (!moov) throw new Error('init segment without moov');
  let video = null;
  let audio = false;
  for (const trak of boxes(bytes, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const stsd = find(bytes, ['mdia', 'minf', 'stbl', 'stsd'], trak.body, trak.end);
    if (!stsd) continue;
    // stsd: version/flags(4) + entry_count(4), then sample entries; a visual sample entry has
    // 78 bytes of fields after its header before its child boxes (avcC, hvcC).
    for (const entry of boxes(bytes, stsd.body + 8, stsd.end)) {
      if (entry.type === 'mp4a') audio = true;
      if (video) continue;
      if (entry.type === 'avc1' || entry.type === 'avc3') {
        const config = find(bytes, ['avcC'], entry.start + 86, entry.end);
        video = { codec: 'h264', codecString: config ? `${entry.type}.${hex(bytes.subarray(config.body + 1, config.body + 4))}` : 'avc1.42E01E' };
      } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
        video = { codec: 'h265', codecString: hevcCodecString(entry.type, bytes, find(bytes, ['hvcC'], entry.start + 86, entry.end)) };
      }
    }
  }
  if (!video) throw new Error('init segment without an H.264 or H.265 video track');
  const codecs = audio ? `${video.codecString},mp4a.40.2` : video.codecString;
  return { ...video, mime: `video/mp4; codecs="${codecs}"` };
}

// ---- What this browser decodes, asked at call time (tests change the answers)

// iPhones since iOS 17.1 have only ManagedMediaSource: the same API, buffering managed by the OS.
function mediaSourceType() {
  return window.MediaSource || window.ManagedMediaSource;
}

export function browserCodecs() {
  const source = mediaSourceType();
  if (!source) {
    const probe = document.createElement('video');
    return ['avc1', ...(probe.canPlayType(PROBES.hvc1) ? ['hvc1'] : [])];
  }
  return Object.keys(PROBES).filter((name) => source.isTypeSupported(PROBES[name]));
}

// ---- Labels rendered by the page (cameras/player.html): reasons and states in its language

let labelCache;
function labels() {
  if (!labelCache) {
    const element = document.getElementById('player-labels');
    labelCache = element ? JSON.parse(element.textContent) : { reasons: {}, states: {} };
  }
  return labelCache;
}

export function stateLabel(state) {
  return labels().states?.[state] ?? state;
}

export function reasonLabel(reason) {
  return labels().reasons?.[reason] ?? reason;
}

// Times in the province's time zone (as the server-rendered pages show them), dd/mm/yyyy.
function zoned(date, options) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: labels().timezone || undefined, ...options }).format(date);
}
const DAY = { day: '2-digit', month: '2-digit', year: 'numeric' };

// "14:02" today, "14:02 12/03/2026" before.
export function fmtSince(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const time = zoned(date, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const day = zoned(date, DAY);
  return day === zoned(new Date(), DAY) ? time : `${time} ${day}`;
}

// "14:02:05 12/03/2026", for the wall's clock.
export function fmtClock(date = new Date()) {
  return `${zoned(date, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })} ${zoned(date, DAY)}`;
}

// "Camera mất tín hiệu từ 14:02 — bị từ chối kết nối"
export function offlineText(reason, since) {
  const label = reason ? reasonLabel(reason) : '';
  const words = label ? label.charAt(0).toLowerCase() + label.slice(1) : t('js.player.no_reason');
  const at = since ? fmtSince(since) : '';
  return at ? t('js.player.offline_since', { time: at, reason: words }) : t('js.player.offline', { reason: words });
}

function seconds(value) {
  const lang = document.documentElement.lang || 'vi';
  return value.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

function make(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

// A Content-Security-Policy without `media-src blob:` (MSE) or the gateway's origin stops every
// player of the page: say so, rather than blame the codec or retry for ever.
const players = new Set();
document.addEventListener('securitypolicyviolation', (event) => {
  if (!['media-src', 'connect-src'].includes(event.effectiveDirective)) return;
  for (const player of players) player.blocked(event.effectiveDirective);
});

// ---- The player

export class CameraPlayer {
  constructor(host, { cameraId, quality = 'main', name = '', pauseWhenHidden = true } = {}) {
    this.host = host;
    this.cameraId = cameraId;
    this.quality = quality;
    this.onlyH264 = false;
    this.session = 0;
    this.retryDelay = RETRY_MIN;
    this.build(name);
    this.tick = setInterval(() => this.everySecond(), 1000);
    players.add(this);
    if (pauseWhenHidden) {
      this.onVisibility = () => this.visibilityChanged();
      document.addEventListener('visibilitychange', this.onVisibility);
    }
    this.start();
  }

  build(name) {
    const host = this.host;
    host.classList.add('camera-player');
    host.dataset.camera = String(this.cameraId);
    this.poster = make('img', 'player-poster');
    this.poster.alt = '';
    this.poster.addEventListener('error', () => this.poster.classList.add('missing'));
    this.poster.addEventListener('load', () => this.poster.classList.remove('missing'));
    this.video = make('video');
    Object.assign(this.video, { muted: true, autoplay: true, playsInline: true, disablePictureInPicture: true });
    this.video.setAttribute('muted', '');
    this.video.setAttribute('playsinline', '');
    this.video.addEventListener('error', () => this.videoFailed());
    this.video.addEventListener('timeupdate', () => this.progressed());
    const overlay = make('div', 'player-overlay');
    const top = make('div', 'player-top');
    this.nameLabel = make('span', 'player-name');
    this.nameLabel.textContent = name;
    this.codecLabel = make('span', 'player-codec');
    this.delayLabel = make('span', 'player-delay');
    top.append(this.nameLabel, this.codecLabel, this.delayLabel);
    this.message = make('div', 'player-message');
    this.message.setAttribute('role', 'status');
    this.messageText = make('p', 'player-text');
    this.retryText = make('p', 'player-retry');
    this.message.append(this.messageText, this.retryText);
    overlay.append(top, this.message);
    host.replaceChildren(this.poster, this.video, overlay);
    host.addEventListener('dblclick', () => host.requestFullscreen?.().catch(() => {}));
  }

  // ---- lifecycle

  start() {
    this.stopped = false;
    this.refreshPoster();
    this.setState('starting');
    this.say(t('js.player.starting'));
    this.connect();
  }

  // Idle: no stream, the latest snapshot shown (a hidden tab, a wall between layouts).
  stop() {
    this.stopped = true;
    this.session += 1;
    clearTimeout(this.retryTimer);
    this.teardown();
    this.setState('idle');
    this.say('');
    this.refreshPoster();
  }

  destroy() {
    this.stop();
    clearInterval(this.tick);
    players.delete(this);
    if (this.onVisibility) document.removeEventListener('visibilitychange', this.onVisibility);
    this.host.replaceChildren();
    this.host.classList.remove('camera-player');
  }

  visibilityChanged() {
    clearTimeout(this.hiddenTimer);
    if (document.hidden) {
      this.hiddenTimer = setTimeout(() => this.stop(), HIDDEN_MS);
    } else if (this.stopped) {
      this.start();
    }
  }

  async connect() {
    const session = ++this.session;
    this.teardown();
    this.lastTime = undefined;
    const codecs = this.onlyH264 ? ['avc1'] : browserCodecs();
    const params = new URLSearchParams({ codecs: codecs.join(',') || 'avc1', quality: this.quality });
    let info;
    try {
      info = await api(`/api/v1/cameras/${this.cameraId}/stream?${params}`);
    } catch (error) {
      if (session === this.session) this.apiFailed(error);
      return;
    }
    if (session !== this.session) return;
    this.info = info;
    this.host.dataset.transcoded = String(Boolean(info.transcoded));
    // A camera never seen live has no known codec yet: its first init segment will say.
    if (info.source_codec) this.showCodec(info.codec);
    if (info.status?.state === 'dead') {
      // The monitor already knows: say so at once, and still try (the camera may be back).
      this.fail(offlineText(info.status.reason, info.status.since), info.status.reason || 'dead');
      this.retryText.textContent = t('js.player.still_trying');
    }
    if (mediaSourceType()) this.playMse(info, session);
    else this.playHls(info);
  }

  teardown() {
    this.cameraOffline = false;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onmessage = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.resetMedia();
  }

  resetMedia() {
    clearTimeout(this.noPictureTimer);
    if (this.mediaSource?.readyState === 'open') {
      try { this.mediaSource.endOfStream(); } catch { /* already ending */ }
    }
    this.mediaSource = null;
    this.sourceBuffer = null;
    this.queue = [];
    this.mime = null;
    this.mediaSince = null;
    this.expectVideo = false;
    if (this.video.getAttribute('src')) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }

  // ---- MSE over the WebSocket

  playMse(info, session) {
    this.host.dataset.path = 'mse';
    const socket = new WebSocket(info.mse_url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.lastMessageAt = performance.now();
    socket.onmessage = (event) => {
      if (session !== this.session) return;
      this.lastMessageAt = performance.now();
      if (typeof event.data === 'string') this.status(event.data);
      else this.receive(new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      if (session === this.session) this.socketClosed(event.code, event.reason);
    };
  }

  // The gateway's word on the camera while the socket stays open: it dropped (the last picture
  // stays, with why and since when), or it is back (its next init segment follows).
  status(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type !== 'status') return;
    if (message.state === 'offline') {
      this.cameraOffline = true; // a quiet socket is then expected, not a dead one
      this.fail(offlineText(message.reason, message.since), message.reason || 'unreachable', message.detail || '');
      this.retryText.textContent = t('js.player.still_trying');
    } else if (message.state === 'live' && this.host.dataset.state === 'error') {
      this.setState('reconnecting');
      this.say(t('js.player.reconnecting'));
    }
  }

  receive(bytes) {
    this.cameraOffline = false;
    if (isInitSegment(bytes)) {
      let parsed;
      try {
        parsed = codecOfInit(bytes);
      } catch (error) {
        console.warn('camera player:', error);
        return;
      }
      this.showCodec(parsed.codec);
      this.queue.push({ data: bytes, mime: parsed.mime, codec: parsed.codec });
      if (!this.mediaSource) this.openSource();
    } else if (this.mediaSource) {
      this.queue.push({ data: bytes });
      if (!this.mediaSince) {
        this.mediaSince = performance.now();
        this.noPictureTimer = setTimeout(() => this.noPicture(), NO_PICTURE_MS);
      }
    }
    this.pump();
  }

  openSource() {
    const MediaSourceType = mediaSourceType();
    const source = new MediaSourceType();
    this.mediaSource = source;
    // ManagedMediaSource plays only with AirPlay off (or an AirPlay alternative given).
    if (MediaSourceType !== window.MediaSource) this.video.disableRemotePlayback = true;
    this.expectVideo = true;
    source.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(this.video.src);
      if (source === this.mediaSource) this.pump();
    }, { once: true });
    this.video.src = URL.createObjectURL(source);
  }

  pump() {
    const source = this.mediaSource;
    if (!source || source.readyState !== 'open' || this.sourceBuffer?.updating) return;
    if (this.trim()) return; // its updateend pumps again
    const item = this.queue.shift();
    if (!item) return;
    try {
      if (item.mime && item.mime !== this.mime && !this.useMime(item)) return;
      this.sourceBuffer.appendBuffer(item.data);
    } catch (error) {
      if (error.name === 'QuotaExceededError' && this.sourceBuffer) {
        this.queue.unshift(item);
        this.trim(true);
      } else {
        this.decodeFailed(item.codec || this.host.dataset.codec, error);
      }
    }
  }

  // A first or new init segment: a SourceBuffer for it, or the old one switched (changeType).
  useMime(item) {
    if (!mediaSourceType().isTypeSupported(item.mime)) throw new DOMException(item.mime, 'NotSupportedError');
    if (!this.sourceBuffer) {
      const buffer = this.mediaSource.addSourceBuffer(item.mime);
      buffer.mode = 'segments';
      buffer.addEventListener('updateend', () => {
        if (buffer !== this.sourceBuffer) return;
        this.keepLive();
        this.pump();
      });
      this.sourceBuffer = buffer;
    } else if (this.sourceBuffer.changeType) {
      this.sourceBuffer.changeType(item.mime);
    } else {
      // Browsers without changeType: start over with a MediaSource made for the new codec.
      const rest = [item, ...this.queue];
      this.resetMedia();
      this.queue = rest;
      this.openSource();
      return false;
    }
    this.mime = item.mime;
    return true;
  }

  // Drops what is long played; `force` when the browser's buffer is full.
  trim(force = false) {
    const buffer = this.sourceBuffer;
    const ranges = buffer?.buffered;
    if (!ranges?.length) return false;
    const behind = this.video.currentTime - ranges.start(0);
    if (behind < (force ? 1 : 2 * KEEP)) return false;
    buffer.remove(ranges.start(0), this.video.currentTime - (force ? 0.5 : KEEP));
    return true;
  }

  // Near the live edge: a player that fell behind (a busy machine, a hidden tab) jumps ahead.
  keepLive() {
    const ranges = this.video.buffered;
    if (!ranges.length || this.host.dataset.path !== 'mse') return;
    const start = ranges.start(0);
    const end = ranges.end(ranges.length - 1);
    const now = this.video.currentTime;
    if (now < start || end - now > MAX_LAG) this.video.currentTime = Math.max(start, end - EDGE);
    if (this.video.paused && !this.stopped) this.video.play().catch(() => {});
  }

  socketClosed(code, reason) {
    this.socket = null;
    const [kind, ...rest] = (reason || '').split(':');
    if (code === 4429) {
      this.fail(t('js.player.transcode_limit'), 'transcode_limit');
    } else if (code === 4502) {
      const status = this.info?.status;
      const since = status?.state === 'dead' ? status.since : this.lastPlayedAt || new Date();
      this.fail(offlineText(kind.trim(), since), kind.trim() || 'unreachable', rest.join(':').trim());
    } else if (this.host.dataset.state !== 'error') {
      this.setState('reconnecting');
      this.say(t('js.player.reconnecting'));
    }
    this.retry();
  }

  noPicture() {
    if (this.host.dataset.state === 'playing') return;
    if (this.host.dataset.codec === 'h265') {
      this.decodeFailed('h265', new Error('no picture'));
    } else {
      this.setState('reconnecting');
      this.say(t('js.player.reconnecting'));
      this.retry();
    }
  }

  // ---- HLS, for browsers without MediaSource (iPhones before iOS 17.1)

  playHls(info) {
    this.host.dataset.path = 'hls';
    this.expectVideo = true;
    this.video.src = info.hls_url;
    this.video.play().catch(() => {});
  }

  // ---- what happens, shown

  progressed() {
    const now = this.video.currentTime;
    const streaming = this.socket || this.host.dataset.path === 'hls';
    if (this.lastTime !== undefined && now > this.lastTime && !this.video.paused && streaming) {
      if (this.host.dataset.state !== 'playing') {
        this.setState('playing');
        this.say('');
        this.poster.classList.add('covered');
      }
      this.retryDelay = RETRY_MIN;
      this.lastPlayedAt = new Date();
      clearTimeout(this.noPictureTimer);
    }
    this.lastTime = now;
  }

  everySecond() {
    const ranges = this.video.buffered;
    if (this.host.dataset.state === 'playing' && ranges.length) {
      const delay = Math.max(0, ranges.end(ranges.length - 1) - this.video.currentTime);
      this.host.dataset.delay = delay.toFixed(2);
      this.delayLabel.textContent = t('js.player.delay', { seconds: seconds(delay) });
      this.keepLive();
    } else {
      this.delayLabel.textContent = '';
    }
    if (this.socket && !this.cameraOffline && performance.now() - this.lastMessageAt > SILENT_MS) {
      this.socket.onclose = null;
      this.socket.close();
      this.socketClosed(1006, '');
    }
    if (this.retryAt) {
      const left = Math.max(1, Math.round((this.retryAt - Date.now()) / 1000));
      this.retryText.textContent = t('js.player.retry_in', { seconds: left });
    }
    if (this.host.dataset.state !== 'playing' && Date.now() - (this.posterAt || 0) > POSTER_MS) {
      this.refreshPoster();
    }
  }

  refreshPoster() {
    this.posterAt = Date.now();
    this.poster.classList.remove('covered');
    this.poster.src = `/api/v1/cameras/${this.cameraId}/snapshot.jpg?t=${this.posterAt}`;
  }

  // What the browser receives, and from what when the gateway transcodes.
  showCodec(codec) {
    this.host.dataset.codec = codec;
    const name = CODEC_NAMES[codec] ?? codec;
    const source = this.info?.source_codec;
    if (this.info?.transcoded) {
      this.codecLabel.textContent = t('js.player.transcoded', { source: CODEC_NAMES[source] ?? source, codec: name });
      this.codecLabel.title = t('js.player.transcoded_title');
    } else {
      this.codecLabel.textContent = name;
      this.codecLabel.title = t('js.player.direct_title');
    }
  }

  setState(state) {
    this.host.dataset.state = state;
    if (state !== 'error') delete this.host.dataset.reason;
    if (state === 'playing' || state === 'idle') {
      this.retryAt = null;
      this.retryText.textContent = '';
    }
  }

  say(text) {
    this.messageText.textContent = text;
    this.message.hidden = !text;
    this.message.querySelector('button')?.remove();
  }

  fail(text, reason, detail = '') {
    this.setState('error');
    this.host.dataset.reason = reason;
    this.say(text);
    this.messageText.title = detail;
  }

  retry() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    const wait = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX);
    this.retryAt = Date.now() + wait;
    this.retryText.textContent = t('js.player.retry_in', { seconds: Math.round(wait / 1000) });
    this.retryTimer = setTimeout(() => {
      this.retryAt = null;
      this.retryText.textContent = '';
      this.connect();
    }, wait);
  }

  apiFailed(error) {
    if (error.code === 'transcode_limit') {
      this.fail(t('js.player.transcode_limit'), 'transcode_limit');
    } else if (error.code === 'no_playable_codec') {
      this.fail(t('js.player.no_codec'), 'no_playable_codec');
      return; // this browser will not decode anything the camera can be given
    } else if (error.status === 404 || error.status === 403) {
      this.fail(t('js.player.not_found'), 'not_found');
      return;
    } else if (error.status) {
      this.fail(t('js.player.failed', { message: error.message }), error.code || 'error');
    } else {
      this.setState('reconnecting');
      this.say(t('js.player.no_server'));
    }
    this.retry();
  }

  videoFailed() {
    if (!this.expectVideo || !this.video.error) return;
    const session = this.session;
    if (this.host.dataset.path === 'hls') {
      this.teardown();
      this.setState('reconnecting');
      this.say(t('js.player.reconnecting'));
      if (session === this.session) this.retry();
      return;
    }
    this.decodeFailed(this.host.dataset.codec, this.video.error);
  }

  blocked(directive) {
    if (this.stopped || this.host.dataset.state === 'playing') return;
    console.warn('camera player: blocked by the Content-Security-Policy', directive);
    this.session += 1;
    clearTimeout(this.retryTimer);
    this.retryAt = null;
    this.retryText.textContent = '';
    this.teardown();
    this.fail(t('js.player.blocked', { directive }), 'csp');
  }

  // The browser said it decodes this codec but does not (H.265 without a platform decoder):
  // retrying would fail the same way; H.264 through the gateway's transcoder is offered instead.
  decodeFailed(codec, error) {
    console.warn('camera player: cannot decode', codec, error);
    this.session += 1;
    clearTimeout(this.retryTimer);
    this.retryAt = null;
    this.retryText.textContent = '';
    this.teardown();
    this.fail(t('js.player.cannot_decode', { codec: CODEC_NAMES[codec] ?? codec }), 'decode');
    if (codec === 'h265' && !this.onlyH264) {
      const button = make('button', 'player-action');
      button.type = 'button';
      button.textContent = t('js.player.use_h264');
      button.addEventListener('click', () => {
        this.onlyH264 = true;
        this.start();
      });
      this.message.append(button);
    }
  }
}

// Players for every `[data-camera-player]` element of a page (the live page uses this).
export function mountPlayers(root = document) {
  return Array.from(root.querySelectorAll('[data-camera-player]'), (host) => new CameraPlayer(host, {
    cameraId: Number(host.dataset.cameraPlayer),
    quality: host.dataset.quality || 'main',
    name: host.dataset.name || '',
  }));
}
