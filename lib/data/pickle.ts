/**
 * A restricted Python unpickler: it decodes the opcodes that `torch.save` emits (protocol 2, plus the protocol 3–5
 * opcodes a user's `pickle_protocol=` may add) into plain JS values, and never runs anything. Every global, every
 * call (REDUCE), every BUILD and every persistent id goes through a `PicklePolicy`: the caller decides what a name
 * means, and refuses what it does not know. Opcodes that construct arbitrary objects (INST, OBJ, NEWOBJ, EXT*) and
 * the text protocol 0 are refused outright.
 *
 * Values: None → null, bool, int → number (bigint past 2^53), float → number, str → string, bytes → Uint8Array,
 * list → array, tuple → frozen array, dict → Map; whatever the policy returns for globals and calls.
 * Opcode reference: CPython's Lib/pickletools.py.
 */
import { fail } from '../errors.js';

export interface PicklePolicy {
  /** GLOBAL / STACK_GLOBAL: the value that stands for `module.name`; throws for anything not allowed. */
  global(module: string, name: string): unknown;
  /** REDUCE: `callable(...args)`, where `callable` came from global() (or an earlier call). */
  call(callable: unknown, args: readonly unknown[]): unknown;
  /** BINPERSID: the object a persistent id names (torch: its storages). */
  persistentLoad(pid: unknown): unknown;
  /** BUILD: applies `state` to `target` and returns it (e.g. ignores an OrderedDict's `_metadata`). */
  build(target: unknown, state: unknown): unknown;
}

const MARK = Symbol('mark');
const MAX_MEMO = 1 << 24;
// torch pickles sizes, strides and offsets: at most 8 bytes. Longer ints are refused, which also keeps a hostile
// LONG4 from costing quadratic time in the BigInt decoding.
const MAX_LONG_BYTES = 16;

/** The pickle opcodes refused by name, so an error says what was found rather than just a byte. */
const REFUSED: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x50: 'PERSID', 0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x67: 'GET',
  0x70: 'PUT', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Decodes one pickle held in `bytes` (it must end with STOP and nothing after it) under `policy`. */
export function unpickle(bytes: Uint8Array, policy: PicklePolicy, what = 'pickle'): unknown {
  return new Unpickler(bytes, policy, what).run();
}

class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly view: DataView;
  private readonly memo = new Map<number, unknown>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly policy: PicklePolicy,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private error(expected: string, got: string): never {
    return fail('ERR_FILE_FORMAT', this.what, expected, got);
  }

  private need(n: number): number {
    if (this.pos + n > this.bytes.length) this.error(`${n} more bytes at offset ${this.pos}`, 'the end of the pickle (truncated)');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)];
  }

  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }

  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  private u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(this.bytes.length)) this.error('a length within the pickle', String(v));
    return Number(v);
  }

  private take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  private utf8(n: number): string {
    try {
      return this.decoder.decode(this.take(n));
    } catch {
      return this.error('a UTF-8 string', 'invalid UTF-8');
    }
  }

  /** Text up to the next newline (GLOBAL's module and name). */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.error('a newline-terminated name', 'the end of the pickle');
    const text = Buffer.from(this.bytes.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return text;
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.error('a value on the stack', 'an empty stack (corrupt pickle)');
    const v = this.stack.pop();
    if (v === MARK) this.error('a value on the stack', 'a MARK');
    return v;
  }

  private top(): unknown {
    const v = this.stack[this.stack.length - 1];
    if (this.stack.length === 0 || v === MARK) this.error('a value on the stack', 'an empty stack (corrupt pickle)');
    return v;
  }

  /** The values pushed since the last MARK, which is removed. */
  private popMark(): unknown[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.error('a MARK', 'none (corrupt pickle)');
    const items = this.stack.slice(at + 1);
    this.stack.length = at;
    return items;
  }

  private put(index: number): void {
    if (this.memo.size >= MAX_MEMO && !this.memo.has(index)) this.error(`at most ${MAX_MEMO} memo entries`, 'more');
    this.memo.set(index, this.top());
  }

  private get(index: number): void {
    if (!this.memo.has(index)) this.error('a memo index that was stored', String(index));
    this.stack.push(this.memo.get(index));
  }

  private long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) this.error(`an integer of at most ${MAX_LONG_BYTES} bytes`, `${n} bytes`);
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) this.error('a dict to set items on', describeValue(target));
    if (items.length % 2 !== 0) this.error('key/value pairs', `${items.length} values`);
    for (let i = 0; i < items.length; i += 2) target.set(dictKey(items[i]), items[i + 1]);
  }

  private append(target: unknown, items: unknown[]): void {
    if (!Array.isArray(target) || Object.isFrozen(target)) this.error('a list to append to', describeValue(target));
    for (const item of items) target.push(item);
  }

  run(): unknown {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: { // PROTO
          const proto = this.u8();
          if (proto > 5) this.error('pickle protocol 2 to 5', String(proto));
          break;
        }
        case 0x95: // FRAME: a length hint only
          this.take(8);
          break;
        case 0x2e: // STOP
          if (this.pos !== this.bytes.length) this.error('nothing after STOP', `${this.bytes.length - this.pos} more bytes`);
          return this.pop();
        case 0x28: this.stack.push(MARK); break; // MARK
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.stack.push(this.top()); break; // DUP
        case 0x4e: this.stack.push(null); break; // NONE
        case 0x88: this.stack.push(true); break; // NEWTRUE
        case 0x89: this.stack.push(false); break; // NEWFALSE
        case 0x4a: this.stack.push(this.view.getInt32(this.need(4), true)); break; // BININT
        case 0x4b: this.stack.push(this.u8()); break; // BININT1
        case 0x4d: this.stack.push(this.u16()); break; // BININT2
        case 0x8a: this.stack.push(this.long(this.u8())); break; // LONG1
        case 0x8b: this.stack.push(this.long(this.u32())); break; // LONG4
        case 0x47: this.stack.push(this.view.getFloat64(this.need(8), false)); break; // BINFLOAT (big-endian)
        case 0x58: this.stack.push(this.utf8(this.u32())); break; // BINUNICODE
        case 0x8c: this.stack.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.stack.push(this.utf8(this.u64())); break; // BINUNICODE8
        // Python 2 str: bytes, read as latin-1 text (what torch.load's encoding='latin1' default does).
        case 0x54: this.stack.push(Buffer.from(this.take(this.u32())).toString('latin1')); break; // BINSTRING
        case 0x55: this.stack.push(Buffer.from(this.take(this.u8())).toString('latin1')); break; // SHORT_BINSTRING
        case 0x42: this.stack.push(this.take(this.u32()).slice()); break; // BINBYTES
        case 0x43: this.stack.push(this.take(this.u8()).slice()); break; // SHORT_BINBYTES
        case 0x8e: this.stack.push(this.take(this.u64()).slice()); break; // BINBYTES8
        case 0x96: this.stack.push(this.take(this.u64()).slice()); break; // BYTEARRAY8
        case 0x29: this.stack.push(Object.freeze([])); break; // EMPTY_TUPLE
        case 0x85: this.stack.push(Object.freeze([this.pop()])); break; // TUPLE1
        case 0x86: { // TUPLE2
          const b = this.pop();
          this.stack.push(Object.freeze([this.pop(), b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.stack.push(Object.freeze([this.pop(), b, c]));
          break;
        }
        case 0x74: this.stack.push(Object.freeze(this.popMark())); break; // TUPLE
        case 0x5d: this.stack.push([]); break; // EMPTY_LIST
        case 0x6c: this.stack.push(this.popMark()); break; // LIST
        case 0x7d: this.stack.push(new Map()); break; // EMPTY_DICT
        case 0x64: { // DICT
          const d = new Map();
          this.setItems(d, this.popMark());
          this.stack.push(d);
          break;
        }
        case 0x61: { // APPEND
          const item = this.pop();
          this.append(this.top(), [item]);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          this.append(this.top(), items);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.top(), [key, value]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case 0x71: this.put(this.u8()); break; // BINPUT
        case 0x72: this.put(this.u32()); break; // LONG_BINPUT
        case 0x94: this.put(this.memo.size); break; // MEMOIZE
        case 0x68: this.get(this.u8()); break; // BINGET
        case 0x6a: this.get(this.u32()); break; // LONG_BINGET
        case 0x63: { // GLOBAL
          const module = this.line();
          const name = this.line();
          this.stack.push(this.policy.global(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.error('a module and a name string', `${describeValue(module)}, ${describeValue(name)}`);
          this.stack.push(this.policy.global(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const callable = this.pop();
          if (!Array.isArray(args)) this.error('an argument tuple', describeValue(args));
          this.stack.push(this.policy.call(callable, args));
          break;
        }
        case 0x51: this.stack.push(this.policy.persistentLoad(this.pop())); break; // BINPERSID
        case 0x62: { // BUILD
          const state = this.pop();
          this.stack.push(this.policy.build(this.pop(), state));
          break;
        }
        default: {
          const name = REFUSED[op];
          this.error('only the pickle opcodes torch.save writes', name ? `${name} (0x${op.toString(16)}) at offset ${at}` : `byte 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
        }
      }
    }
  }
}

/** Dict keys as Map keys: strings and numbers as they are; anything else is not a name ncod could use. */
function dictKey(key: unknown): unknown {
  return typeof key === 'bigint' ? String(key) : key;
}

/** Short description of a decoded value, for "got Y" parts of messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? `a tuple of ${v.length}` : `a list of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${String(v)}`;
}
