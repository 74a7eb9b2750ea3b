#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (onnxruntime-node, CPU) as a peer for lrpx.
//
//   node scripts/node/ort_run.js MODEL OUTDIR INPUT.npy [NAME=FILE.npy ...]
//        [--threads N] [--bench N] [--opt-level disabled|basic|extended|all]
//        [--load-only]
//
// INPUT.npy feeds the model's first input; NAME=FILE.npy feeds input NAME.
// Every output is written as OUTDIR/<output name>.npy (.npy v1, C order,
// little endian).  One JSON line on stdout describes the run; with --bench N
// the model also runs N timed iterations after one warm-up and the JSON
// carries the median milliseconds. create_ms is the session creation time
// (reading and optimising the model); --load-only stops after it.
//
// onnxruntime-node is taken from $LRPX_ORT_NODE_MODULES (a node_modules
// folder, e.g. a scratch install outside the repository) or from
// scripts/node/node_modules.
//
// .npy reading/writing is done here (versions 1, 2 and 3 of the format;
// float32, float64, int64, int32, uint8, int8 and bool).
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE = 'usage: ort_run.js MODEL OUTDIR INPUT.npy [NAME=FILE.npy ...] ' +
  '[--threads N] [--bench N] [--opt-level disabled|basic|extended|all] [--load-only]';

// numpy descr (without byte order) -> [ORT tensor type, TypedArray, bytes]
const DTYPES = {
  f4: ['float32', Float32Array, 4],
  f8: ['float64', Float64Array, 8],
  i8: ['int64', BigInt64Array, 8],
  i4: ['int32', Int32Array, 4],
  u1: ['uint8', Uint8Array, 1],
  i1: ['int8', Int8Array, 1],
  b1: ['bool', Uint8Array, 1],
};
const DESCR_OF = {
  float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1',
  bool: '|b1',
};

function fail(msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(1);
}

function headerField(header, key) {
  const m = header.match(new RegExp(`['"]${key}['"]\\s*:\\s*`));
  if (!m) return null;
  return header.slice(m.index + m[0].length);
}

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic)) {
    throw new Error(`${file}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  let hlen;
  let off;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    off = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${file}: truncated header`);
    hlen = buf.readUInt32LE(8);
    off = 12;
  } else {
    throw new Error(`${file}: unsupported .npy version ${major}`);
  }
  if (off + hlen > buf.length) throw new Error(`${file}: truncated header`);
  const header = buf.subarray(off, off + hlen).toString(major === 3 ? 'utf8' : 'latin1');
  const dataOff = off + hlen;

  const descrRest = headerField(header, 'descr');
  const fortranRest = headerField(header, 'fortran_order');
  const shapeRest = headerField(header, 'shape');
  if (descrRest === null || fortranRest === null || shapeRest === null) {
    throw new Error(`${file}: header lacks descr/fortran_order/shape: ${header.trim()}`);
  }
  const dm = descrRest.match(/^['"]([<>|=])([a-z]\d+)['"]/);
  if (!dm) throw new Error(`${file}: unsupported descr in ${header.trim()}`);
  const [, order, code] = dm;
  if (!(code in DTYPES)) throw new Error(`${file}: unsupported dtype ${order}${code}`);
  const [type, Arr, size] = DTYPES[code];
  if (order === '>' && size > 1) throw new Error(`${file}: big-endian data is not supported`);
  if (/^True/.test(fortranRest)) throw new Error(`${file}: Fortran-order arrays not supported`);
  const sm = shapeRest.match(/^\(([^)]*)\)/);
  if (!sm) throw new Error(`${file}: cannot parse shape in ${header.trim()}`);
  const dims = sm[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw new Error(`${file}: bad dimension '${s}'`);
      return parseInt(s, 10);
    });
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - dataOff < count * size) {
    throw new Error(`${file}: data holds ${buf.length - dataOff} bytes, shape ` +
      `[${dims}] of ${type} needs ${count * size}`);
  }
  // Copy so the typed array is aligned regardless of the header length.
  const bytes = new Uint8Array(count * size);
  bytes.set(buf.subarray(dataOff, dataOff + count * size));
  let data = new Arr(bytes.buffer, 0, count);
  if (type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { type, dims, data };
}

function writeNpy(file, type, dims, data) {
  const descr = DESCR_OF[type];
  if (!descr) throw new Error(`output type ${type} cannot be written as .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  let payload;
  if (type === 'bool') {
    payload = Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)));
  } else {
    payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), payload]));
}

function parseArgs(argv) {
  const opts = { threads: 1, bench: 0, optLevel: 'all', loadOnly: false, positional: [],
    named: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--threads') opts.threads = parseInt(next(), 10);
    else if (a === '--bench') opts.bench = parseInt(next(), 10);
    else if (a === '--opt-level') opts.optLevel = next();
    else if (a === '--load-only') opts.loadOnly = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (a.startsWith('--')) fail(`unknown option ${a}\n${USAGE}`);
    else if (opts.positional.length >= 3 && a.includes('=')) {
      const k = a.indexOf('=');
      opts.named.push([a.slice(0, k), a.slice(k + 1)]);
    } else opts.positional.push(a);
  }
  if (opts.positional.length !== 3) fail(USAGE);
  if (!(opts.threads >= 1)) fail('--threads must be >= 1');
  if (!(opts.bench >= 0)) fail('--bench must be >= 0');
  if (!['disabled', 'basic', 'extended', 'all'].includes(opts.optLevel)) {
    fail(`bad --opt-level ${opts.optLevel}`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const [modelPath, outDir, firstInput] = opts.positional;
  let ort;
  try {
    const dir = process.env.LRPX_ORT_NODE_MODULES || path.join(__dirname, 'node_modules');
    ort = require(path.join(dir, 'onnxruntime-node'));
  } catch (e) {
    fail(`cannot load onnxruntime-node (run npm install in scripts/node): ${e.message}`);
  }
  const c0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.optLevel,
  });
  const createMs = Number(process.hrtime.bigint() - c0) / 1e6;
  if (opts.loadOnly) {
    process.stdout.write(JSON.stringify({ model: modelPath, create_ms: createMs }) + '\n');
    return;
  }

  const feeds = {};
  const toTensor = (name, file) => {
    const a = readNpy(file);
    feeds[name] = new ort.Tensor(a.type, a.data, a.dims);
  };
  if (session.inputNames.length === 0) fail(`${modelPath}: model has no inputs`);
  toTensor(session.inputNames[0], firstInput);
  for (const [name, file] of opts.named) {
    if (!session.inputNames.includes(name)) {
      fail(`${modelPath}: no input named '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
    toTensor(name, file);
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length) fail(`${modelPath}: no data for input(s) ${missing.join(', ')}`);

  const t0 = process.hrtime.bigint();
  const results = await session.run(feeds);
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;

  fs.mkdirSync(outDir, { recursive: true });
  const outputs = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = path.join(outDir, `${name}.npy`);
    writeNpy(file, t.type, t.dims, t.data);
    outputs.push({ name, type: t.type, dims: Array.from(t.dims), file });
  }

  const report = { model: modelPath, threads: opts.threads, outputs, create_ms: createMs,
    first_run_ms: firstMs };
  if (opts.bench > 0) {
    const times = [];
    const cpu = [];
    await session.run(feeds); // warm-up
    for (let i = 0; i < opts.bench; i++) {
      const s = process.hrtime.bigint();
      const c = process.cpuUsage();
      await session.run(feeds);
      const d = process.cpuUsage(c);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
      cpu.push((d.user + d.system) / 1e3);
    }
    // process CPU time per run (all threads), less sensitive to other
    // programs than the wall clock
    cpu.sort((a, b) => a - b);
    const cm = cpu.length >> 1;
    report.median_cpu_ms = cpu.length % 2 ? cpu[cm] : (cpu[cm - 1] + cpu[cm]) / 2;
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    report.bench_runs = opts.bench;
    report.median_ms = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    report.min_ms = times[0];
    report.max_ms = times[times.length - 1];
  }
  process.stdout.write(JSON.stringify(report) + '\n');
  if (typeof session.release === 'function') await session.release();
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
