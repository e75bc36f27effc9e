// The one sentence every command's --help shows about the array files it reads (lib/data/read-array.ts reads them).
// Its own file so that --help loads no reader.
export const FORMATS_HELP = `Arrays: .npy (C or Fortran order, either byte order), .npz, .safetensors, or torch.save .pt/.pth files;
pick one array of a file with file:name (x.safetensors:layer4, x.npz:feats, x.pt:model.fc.weight, x.pt:feats.0).
dtypes float16, bfloat16, float32, float64, int8..int64, uint8..uint64, bool; labels are integers (N, N×1 or 1×N).
Shards: a quoted glob ('feats/part-*.npy', natural order) or a comma list (a.npy,b.npy) is one array; features
stream from .npy/.npz/.safetensors in chunks of rows (NCOD_CHUNK_ROWS), so their size is not limited by memory.`;
