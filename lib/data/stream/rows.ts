/**
 * Row readers: the rows of one array in one file, a chunk at a time, in little-endian C order whatever the file's
 * layout. Memory is one chunk (plus one read ahead, see chunks.ts), whatever the file size.
 *   - ContiguousRows: data that lies row after row in the file (C-order .npy, safetensors, stored .npz members);
 *     big-endian data is swapped per chunk; a CRC-32, when given (a stored .npz member's, which also covers the
 *     member's .npy header: crcOfPrefix), is checked once the last row is read.
 *   - FortranRows: a column-major 2-D .npy: each chunk gathers its rows from every column (one read per column).
 *   - InflatedRows: a deflated .npz member, inflated as it is read (size and CRC-32 checked at the end).
 *   - TensorRows: an array already in memory (.pt files, and deflated Fortran-order members, are read whole).
 */
import type { FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInflateRaw } from 'node:zlib';
import { fail } from '../../errors.js';
import { byteswap } from '../layout.js';
import { crc32 } from '../npz.js';
import { parseNpyPrefix } from '../npy.js';
import { ITEM_SIZE, allocateArray, readExactly, type DType, type Tensor, type TensorData } from '../tensor.js';

export interface RowLayout {
  dtype: DType;
  shape: number[];
  /** shape[0]. */
  rows: number;
  /** Elements per row: the product of shape[1..] (1 for a 1-D array). */
  rowElements: number;
}

export interface RowReader extends RowLayout {
  /** The next min(count, rows left) rows; an empty array once every row was read. */
  read(count: number): Promise<TensorData>;
  close(): Promise<void>;
}

export function rowLayout(dtype: DType, shape: number[]): RowLayout {
  if (shape.length === 0) return { dtype, shape, rows: 1, rowElements: 1 };
  return { dtype, shape, rows: shape[0], rowElements: shape.slice(1).reduce((a, b) => a * b, 1) };
}

/** Rows that lie one after another from byte `offset` of an open file. */
export class ContiguousRows implements RowReader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly rows: number;
  readonly rowElements: number;
  #next = 0;
  #crc = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    layout: RowLayout,
    private readonly what: string,
    private readonly options: { bigEndian?: boolean; crc?: number; crcOfPrefix?: number } = {},
  ) {
    ({ dtype: this.dtype, shape: this.shape, rows: this.rows, rowElements: this.rowElements } = layout);
    this.#crc = options.crcOfPrefix ?? 0;
  }

  async read(count: number): Promise<TensorData> {
    const n = Math.min(count, this.rows - this.#next);
    const data = allocateArray(this.dtype, n * this.rowElements, this.what);
    if (n === 0) return data;
    const rowBytes = this.rowElements * ITEM_SIZE[this.dtype];
    await readExactly(this.handle, data, this.offset + this.#next * rowBytes, this.what);
    this.#next += n;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.options.crc !== undefined) {
      this.#crc = crc32(bytes, this.#crc);
      if (this.#next === this.rows) checkCrc(this.options.crc, this.#crc, this.what);
    }
    if (this.options.bigEndian) byteswap(bytes, ITEM_SIZE[this.dtype]);
    return data;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

// Column reads issued at once by FortranRows: enough to keep the disk busy, few enough not to flood libuv's pool.
const PARALLEL_COLUMN_READS = 16;

/** A Fortran-order (column-major) 2-D array from byte `offset`: element (i, j) lies at (j·rows + i) items. */
export class FortranRows implements RowReader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly rows: number;
  readonly rowElements: number;
  #next = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    layout: RowLayout,
    private readonly what: string,
    private readonly bigEndian = false,
  ) {
    if (layout.shape.length !== 2) fail('ERR_FILE_FORMAT', what, 'a 1-D or 2-D array to stream in Fortran order', `shape [${layout.shape.join(', ')}]`);
    ({ dtype: this.dtype, shape: this.shape, rows: this.rows, rowElements: this.rowElements } = layout);
  }

  async read(count: number): Promise<TensorData> {
    const n = Math.min(count, this.rows - this.#next);
    const cols = this.rowElements;
    const item = ITEM_SIZE[this.dtype];
    const columnMajor = allocateArray(this.dtype, n * cols, this.what);
    if (n === 0) return columnMajor;
    for (let j0 = 0; j0 < cols; j0 += PARALLEL_COLUMN_READS) {
      const reads: Promise<void>[] = [];
      for (let j = j0; j < Math.min(cols, j0 + PARALLEL_COLUMN_READS); j++) {
        const target = new Uint8Array(columnMajor.buffer, columnMajor.byteOffset + j * n * item, n * item);
        reads.push(readExactly(this.handle, target, this.offset + (j * this.rows + this.#next) * item, this.what));
      }
      await Promise.all(reads);
    }
    this.#next += n;
    if (this.bigEndian) byteswap(new Uint8Array(columnMajor.buffer, columnMajor.byteOffset, columnMajor.byteLength), item);
    return transpose(columnMajor, n, cols, this.dtype, this.what);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** cols×rows (column-major rows×cols) → rows×cols row-major. */
function transpose(src: TensorData, rows: number, cols: number, dtype: DType, what: string): TensorData {
  const out = allocateArray(dtype, rows * cols, what) as unknown as { [i: number]: number | bigint };
  const from = src as unknown as { [i: number]: number | bigint };
  for (let j = 0; j < cols; j++) {
    const base = j * rows;
    for (let i = 0; i < rows; i++) out[i * cols + j] = from[base + i];
  }
  return out as unknown as TensorData;
}

/** Rows of an array held in memory (views, no copies). */
export class TensorRows implements RowReader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly rows: number;
  readonly rowElements: number;
  #next = 0;

  constructor(private readonly tensor: Tensor) {
    ({ dtype: this.dtype, shape: this.shape, rows: this.rows, rowElements: this.rowElements } = rowLayout(tensor.dtype, tensor.shape));
  }

  async read(count: number): Promise<TensorData> {
    const n = Math.min(count, this.rows - this.#next);
    const start = this.#next * this.rowElements;
    this.#next += n;
    return this.tensor.data.subarray(start, start + n * this.rowElements) as TensorData;
  }

  async close(): Promise<void> {}
}

/** The deflated bytes of one zip member, as its local header and central directory describe them. */
export interface DeflatedMember {
  path: string;
  dataStart: number;
  compressedSize: number;
  size: number;
  crc: number;
}

/**
 * A deflated .npz member streamed through zlib: the .npy header comes from the first inflated bytes; rows then
 * arrive as inflated. More bytes than declared, fewer, or a wrong CRC-32 is ERR_FILE_FORMAT.
 */
export class InflatedRows implements RowReader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly rows: number;
  readonly rowElements: number;
  readonly bigEndian: boolean;
  #next = 0;
  #crc = 0;
  #seen = 0;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;

  private constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly destroy: () => void,
    private readonly member: DeflatedMember,
    layout: RowLayout & { bigEndian: boolean },
    private readonly what: string,
  ) {
    ({ dtype: this.dtype, shape: this.shape, rows: this.rows, rowElements: this.rowElements, bigEndian: this.bigEndian } = layout);
  }

  /** Opens the member and reads its .npy header; Fortran-order members cannot be streamed this way (undefined). */
  static async open(member: DeflatedMember, what: string): Promise<{ reader: InflatedRows; fortranOrder: false } | { reader: undefined; fortranOrder: true }> {
    const file = createReadStream(member.path, { start: member.dataStart, end: member.dataStart + member.compressedSize - 1 });
    const inflate = createInflateRaw();
    file.on('error', (error) => inflate.destroy(error));
    file.pipe(inflate);
    const chunks = inflate[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const destroy = () => {
      file.destroy();
      inflate.destroy();
    };
    let joined: Buffer = Buffer.alloc(0);
    try {
      for (;;) {
        const parsed = parseNpyPrefix(joined, what);
        if (parsed) {
          const { header, dataOffset } = parsed;
          if (dataOffset + header.dataBytes !== member.size) {
            fail('ERR_FILE_FORMAT', what, `${member.size} bytes after inflating (the declared size)`, `an .npy header implying ${dataOffset + header.dataBytes}`);
          }
          if (header.fortranOrder && header.shape.filter((d) => d > 1).length > 1) {
            destroy();
            return { reader: undefined, fortranOrder: true };
          }
          const layout = { ...rowLayout(header.dtype, header.shape), bigEndian: header.bigEndian };
          const reader = new InflatedRows(chunks, destroy, member, layout, what);
          reader.#crc = crc32(joined);
          reader.#seen = joined.length;
          if (joined.length > dataOffset) reader.#pending = [joined.subarray(dataOffset)];
          reader.#pendingLength = joined.length - dataOffset;
          return { reader, fortranOrder: false };
        }
        const step = await nextChunk(chunks, what);
        if (!step) fail('ERR_FILE_FORMAT', what, 'an .npy header in the member', `${joined.length} bytes`);
        joined = Buffer.concat([joined, step]);
      }
    } catch (error) {
      destroy();
      throw error;
    }
  }

  async read(count: number): Promise<TensorData> {
    const n = Math.min(count, this.rows - this.#next);
    const item = ITEM_SIZE[this.dtype];
    const wanted = n * this.rowElements * item;
    while (this.#pendingLength < wanted) {
      const chunk = await nextChunk(this.chunks, this.what);
      if (!chunk) fail('ERR_FILE_FORMAT', this.what, `${this.member.size} bytes after inflating`, `${this.#seen} (truncated)`);
      this.#take(chunk);
    }
    const joined = Buffer.concat(this.#pending, this.#pendingLength);
    const out = allocateArray(this.dtype, n * this.rowElements, this.what);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    bytes.set(joined.subarray(0, wanted));
    this.#pending = joined.length > wanted ? [joined.subarray(wanted)] : [];
    this.#pendingLength = joined.length - wanted;
    this.#next += n;
    if (this.#next === this.rows && n > 0) await this.#finish();
    if (this.bigEndian) byteswap(bytes, item);
    return out;
  }

  #take(chunk: Buffer): void {
    this.#seen += chunk.length;
    if (this.#seen > this.member.size) fail('ERR_FILE_FORMAT', this.what, `${this.member.size} bytes after inflating (the declared size)`, 'more');
    this.#crc = crc32(chunk, this.#crc);
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
  }

  /** Drains the stream to its end: the declared size and CRC hold only once every byte is seen. */
  async #finish(): Promise<void> {
    for (let chunk = await nextChunk(this.chunks, this.what); chunk; chunk = await nextChunk(this.chunks, this.what)) this.#take(chunk);
    if (this.#seen !== this.member.size) fail('ERR_FILE_FORMAT', this.what, `${this.member.size} bytes after inflating`, `${this.#seen}`);
    checkCrc(this.member.crc, this.#crc, this.what);
  }

  async close(): Promise<void> {
    this.destroy();
  }
}

async function nextChunk(chunks: AsyncIterator<Buffer>, what: string): Promise<Buffer | undefined> {
  try {
    const step = await chunks.next();
    return step.done ? undefined : step.value;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_FILE_FORMAT') throw error;
    return fail('ERR_FILE_FORMAT', what, 'valid deflate data', error instanceof Error ? error.message : String(error));
  }
}

function checkCrc(expected: number, got: number, what: string): void {
  const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
  if (expected >>> 0 !== got >>> 0) fail('ERR_FILE_FORMAT', what, `CRC-32 ${hex(expected)}`, hex(got));
}
