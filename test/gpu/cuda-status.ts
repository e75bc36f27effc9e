// GPU tests run only where the CUDA backend is available, and say why they are skipped elsewhere.
import { backends } from '../../lib/index.js';

const cuda = backends().find((b) => b.name === 'cuda');

export const cudaAvailable = cuda?.available === true;
/** Goes into skipped test titles so the reason shows in the test report. */
export const cudaSkipReason = cudaAvailable ? '' : ` [skipped: CUDA unavailable: ${cuda?.reason ?? 'unknown'}]`;

if (!cudaAvailable) console.warn(`GPU tests skipped: CUDA backend unavailable: ${cuda?.reason ?? 'unknown'}`);
