/**
 * An .npy written a chunk at a time, for outputs as long as the inputs they come from (scores of a streamed
 * dataset). The rows go to a temp file beside the target; commit() checks that every row came, syncs and renames,
 * abort() removes it: nobody ever sees a partial file under the target's name.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fail } from '../../errors.js';
import { npyHeader } from '../npy.js';
import { ITEM_SIZE, elementCount, type DType, type TensorData } from '../tensor.js';

export class NpyWriter {
  #position: number;
  #written = 0;
  #done = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly handle: FileHandle,
    readonly dtype: DType,
    private readonly count: number,
    headerLength: number,
  ) {
    this.#position = headerLength;
  }

  /** Starts `path` (dtype × shape, C order); nothing appears at `path` before commit(). */
  static async create(path: string, dtype: DType, shape: number[]): Promise<NpyWriter> {
    const header = npyHeader({ dtype, shape });
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx');
    try {
      await handle.write(header, 0, header.length, 0);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    return new NpyWriter(path, tmp, handle, dtype, elementCount(shape), header.length);
  }

  /** Appends the next elements (any typed array of the writer's dtype, little-endian). */
  async append(data: TensorData): Promise<void> {
    if (this.#done) fail('ERR_INVALID_ARGUMENT', this.path, 'a writer still open', 'one already committed or aborted');
    if (this.#written + data.length > this.count) fail('ERR_SHAPE', this.path, `${this.count} elements in all`, `${this.#written + data.length}`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length * ITEM_SIZE[this.dtype]);
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.handle.write(bytes, off, bytes.length - off, this.#position);
      off += bytesWritten;
      this.#position += bytesWritten;
    }
    this.#written += data.length;
  }

  /** Every element written: sync, close and rename over the target. Fewer is ERR_SHAPE (and the file is removed). */
  async commit(): Promise<void> {
    if (this.#written !== this.count) {
      await this.abort();
      fail('ERR_SHAPE', this.path, `${this.count} elements`, `${this.#written} written`);
    }
    this.#done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tmp, this.path);
    } catch (error) {
      await unlink(this.tmp).catch(() => undefined);
      throw error;
    }
  }

  /** Drops the temp file; the target is untouched. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}
