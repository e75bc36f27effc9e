# Turns a .cu file into C++ for the CPU emulator: kernel<<<g, b, smem, stream>>>(args) -> emu_launch(kernel, g, b, smem, stream, args).
import re, sys
src = open(sys.argv[1]).read()
def split_top(s):
    parts, depth, cur = [], 0, ''
    for ch in s:
        if ch in '(<[': depth += 1
        if ch in ')>]': depth -= 1
        if ch == ',' and depth == 0: parts.append(cur.strip()); cur = ''
        else: cur += ch
    parts.append(cur.strip()); return parts
def launch(m):
    kernel, cfg = m.group(1), split_top(m.group(2))
    while len(cfg) < 4: cfg.append('0' if len(cfg) == 2 else 'nullptr')
    return f'emu_launch({kernel}, dim3({cfg[0]}), dim3({cfg[1]}), {cfg[2]}, {cfg[3]}, '
out = re.sub(r'([A-Za-z_]\w*(?:<[^<>;]*>)?)<<<(.*?)>>>\(', launch, src, flags=re.S)
out = out.replace('extern __shared__ __align__(16) unsigned char g_dyn_smem[];', 'alignas(16) static unsigned char g_dyn_smem[1 << 17];')
open(sys.argv[2], 'w').write(out)
