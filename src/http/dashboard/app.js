// The dashboard: polls the read-only JSON API every 2 s and draws it with uPlot. Plain browser
// JavaScript, served as is (no build step).
'use strict';

const REFRESH_MS = 2000;
const PAGE = 25;
const $ = (id) => document.getElementById(id);
const state = { sampler: null, order: 'uncertainty', offset: 0, detail: null, charts: {}, token: sessionStorage.getItem('rs-token') };

async function api(path) {
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    $('token-form').hidden = false;
    throw new Error('a bearer token is required');
  }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${(await response.json()).message ?? ''}`);
  return response.json();
}

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US')),
  num: (n, digits = 3) => (n === null || n === undefined ? '–' : Number(n).toFixed(digits)),
  prob: (p) => (p === null || p === undefined ? '–' : p.toExponential(2)),
  ago: (iso) => {
    if (!iso) return 'no activity since start';
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return seconds < 90 ? `active ${seconds.toFixed(0)} s ago` : `active ${(seconds / 60).toFixed(0)} min ago`;
  },
};

function setText(id, text) {
  $(id).textContent = text;
}

// -- charts ---------------------------------------------------------------------------------
function chartWidth(id) {
  return Math.max(200, $(id).parentElement.clientWidth - 32);
}

function drawChart(id, options, data) {
  const old = state.charts[id];
  if (old && old.series.length === options.series.length) {
    old.setData(data);
    return;
  }
  if (old) old.destroy();
  state.charts[id] = new uPlot({ width: chartWidth(id), height: 220, ...options }, data, $(id));
}

const axis = (label, extra = {}) => ({ label, stroke: '#6b7585', grid: { stroke: '#eef0f3' }, ...extra });

function drawPressure(history, detail) {
  const schedule = history.schedule;
  const served = new Map(history.epochs.map((e) => [e.epoch, e.pressure]));
  const epochs = schedule.length ? schedule.map((s) => s.epoch) : history.epochs.map((e) => e.epoch);
  const planned = schedule.length ? schedule.map((s) => s.pressure) : epochs.map(() => null);
  const actual = epochs.map((e) => (served.has(e) ? served.get(e) : null));
  drawChart('c-pressure', {
    scales: { x: { time: false } },
    axes: [axis('epoch'), axis(detail.config.strategy === 'ACTIVE_BIAS' ? 'max/min of P' : 's_e')],
    series: [{}, { label: 'planned', stroke: '#9aa5b5', width: 1.5, dash: [4, 4] },
      { label: 'served', stroke: '#2f6fdb', width: 0, points: { show: true, size: 6, fill: '#2f6fdb' } }],
  }, [epochs, planned, actual]);
}

function drawHistogram(detail) {
  const bins = detail.histogram.map((_, b) => b / 10 + 0.05);
  drawChart('c-histogram', {
    scales: { x: { time: false, range: [0, 1] } },
    axes: [axis('F (bin centre)'), axis('samples')],
    series: [{}, { label: 'samples', fill: 'rgba(47,111,219,0.35)', stroke: '#2f6fdb', paths: uPlot.paths.bars({ size: [0.9] }) }],
  }, [bins, detail.histogram]);
}

function drawEpochs(history) {
  const epochs = history.epochs;
  renderSelection(epochs);
  const share = (e, from, to) => e.histogram.slice(from, to).reduce((a, c) => a + c, 0) / e.histogram.reduce((a, c) => a + c, 0);
  drawChart('c-epochs', {
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [axis('epoch'), axis('share / mean F')],
    series: [{},
      { label: 'settled (F < 0.1)', stroke: '#27ae60', width: 2 },
      { label: 'uncertain (F ≥ 0.5)', stroke: '#c0392b', width: 2 },
      { label: 'mean F', stroke: '#2f6fdb', width: 2, dash: [6, 3] },
      { label: 'effective sample size / N', stroke: '#7f8c8d', width: 2 }],
  }, [epochs.map((e) => e.epoch), epochs.map((e) => share(e, 0, 1)), epochs.map((e) => share(e, 5, 10)), epochs.map((e) => e.meanUncertainty),
    epochs.map((e) => e.diagnostics?.effectiveSampleSizeRatio ?? null)]);
}

/** Whether selection does anything in the latest epoch started: its P's effective sample size. */
function renderSelection(epochs) {
  const d = epochs.at(-1)?.diagnostics;
  setText('t-ess', d ? fmt.num(d.effectiveSampleSizeRatio) : '–');
  setText('t-selection', !d ? "this epoch's P: 1 = uniform"
    : d.uniform ? 'uniform: no sample is more uncertain than another'
      : `top tenth gets ${(100 * d.topDecileDrawShare).toFixed(0)}% of draws`);
}

function drawDraws(detail) {
  const values = detail.uncertaintyValues;
  drawChart('c-draws', {
    scales: { x: { time: false, range: [0, 1] } },
    axes: [axis('F now'), axis('mean times drawn')],
    series: [{}, { label: 'mean draws', stroke: '#8e44ad', width: 1, points: { show: true, size: 7, fill: '#8e44ad' } }],
  }, [values.map((v) => v.uncertainty), values.map((v) => v.meanDrawn)]);
}

// -- panels ---------------------------------------------------------------------------------
function renderOverview(d) {
  setText('t-strategy', d.config.strategy.replace('_', ' ').toLowerCase());
  setText('t-epoch', `${d.epoch + (d.step < 0 ? 0 : 1)} / ${d.config.epochs}`);
  setText('t-phase', d.step < 0 ? 'not started' : d.phase.toLowerCase());
  setText('t-step', `${fmt.int(d.step + 1)} / ${fmt.int(d.totalSteps)}`);
  $('t-progress').style.width = `${(100 * (d.step + 1)) / d.totalSteps}%`;
  setText('t-pressure', d.selectionPressure === null ? '–' : `${fmt.num(d.selectionPressure, 2)}×`);
  setText('t-meanf', fmt.num(d.meanUncertainty));
  setText('t-unseen', fmt.int(d.neverSeen));
  setText('t-predictions', fmt.int(d.predictionsReceived));
  setText('t-activity', fmt.ago(d.lastActivity));
  const rows = d.reportsPerRank.map((r) => {
    const behind = d.step - r.lastStep;
    return `<tr><td>${r.rank}</td><td>${fmt.int(r.reports)}</td><td>${fmt.int(r.predictions)}</td><td>${fmt.int(r.lastStep)}</td>` +
      `<td class="${behind > d.stepsPerEpoch ? 'lagging' : ''}">${fmt.int(behind)} steps</td></tr>`;
  });
  $('ranks').innerHTML = rows.join('') || '<tr><td colspan="5">no reports yet</td></tr>';
}

function renderSamples(page) {
  $('samples').innerHTML = page.samples.map((s) =>
    `<tr data-index="${s.index}" tabindex="0" aria-label="open sample ${s.index}"><td>${s.index}</td><td>${fmt.num(s.uncertainty)}</td><td class="window">${s.window.join(' ')}</td>` +
    `<td>${fmt.prob(s.probability)}</td><td>${s.drawn}</td><td>${s.lastReportedStep ?? '–'}</td><td>${fmt.num(s.latestLoss)}</td></tr>`).join('');
  const last = Math.min(page.total, page.offset + page.samples.length);
  setText('page-info', `${fmt.int(page.offset + 1)}–${fmt.int(last)} of ${fmt.int(page.total)}`);
  $('prev').disabled = page.offset === 0;
  $('next').disabled = last >= page.total;
}

function renderDetail(s) {
  $('detail').hidden = false;
  setText('d-index', String(s.index));
  const fields = [
    ['window (oldest → newest)', s.window.length ? s.window.join(' ') : 'empty'],
    ['valid predictions', s.valid],
    ['uncertainty F', fmt.num(s.uncertainty)],
    ['P(i) this epoch', fmt.prob(s.probability)],
    ['times drawn', s.drawn],
    ['last step reported', s.lastReportedStep ?? 'never'],
    ['latest loss', fmt.num(s.latestLoss)],
    ['true-class probability', s.trueClassProb ? `mean ${fmt.num(s.trueClassProb.mean)}, std_hat ${fmt.num(s.trueClassProb.stdHat)} over ${s.trueClassProb.reports} reports` : 'not reported'],
  ];
  $('d-fields').innerHTML = fields.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
}

// -- refresh loop ---------------------------------------------------------------------------
async function refresh() {
  try {
    const { samplers } = await api('/v1/samplers');
    const select = $('sampler');
    const names = samplers.map((s) => s.name);
    if (select.options.length !== names.length || [...select.options].some((o, i) => o.value !== names[i])) {
      select.innerHTML = names.map((n) => `<option>${n}</option>`).join('');
      if (!names.includes(state.sampler)) state.sampler = names[0] ?? null;
      select.value = state.sampler ?? '';
    }
    $('empty').hidden = names.length > 0;
    $('main').hidden = names.length === 0;
    if (state.sampler) {
      const name = encodeURIComponent(state.sampler);
      const [detail, history, page] = await Promise.all([
        api(`/v1/samplers/${name}`),
        api(`/v1/samplers/${name}/epochs`),
        api(`/v1/samplers/${name}/samples?order=${state.order}&limit=${PAGE}&offset=${state.offset}`),
      ]);
      renderOverview(detail);
      drawPressure(history, detail);
      drawHistogram(detail);
      drawEpochs(history);
      drawDraws(detail);
      renderSamples(page);
      if (state.detail !== null) renderDetail(await api(`/v1/samplers/${name}/samples/${state.detail}`));
    }
    $('status').className = 'status';
    setText('status', `live · updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.loaded = 'true';
  } catch (error) {
    $('status').className = 'status error';
    setText('status', String(error.message ?? error));
  }
}

async function openSample(index) {
  state.detail = index;
  try {
    renderDetail(await api(`/v1/samplers/${encodeURIComponent(state.sampler)}/samples/${index}`));
    // The panel opens below the table: bring it into view, and the focus with it (keyboard users).
    $('detail').scrollIntoView({ block: 'nearest' });
    $('d-title').focus({ preventScroll: true });
  } catch (error) {
    state.detail = null;
    $('status').className = 'status error';
    setText('status', String(error.message ?? error));
  }
}

$('sampler').addEventListener('change', (e) => { state.sampler = e.target.value; state.offset = 0; state.detail = null; $('detail').hidden = true; refresh(); });
$('order').addEventListener('change', (e) => { state.order = e.target.value; state.offset = 0; refresh(); });
$('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); refresh(); });
$('next').addEventListener('click', () => { state.offset += PAGE; refresh(); });
$('samples').addEventListener('click', (e) => { const row = e.target.closest('tr'); if (row) openSample(Number(row.dataset.index)); });
$('samples').addEventListener('keydown', (e) => {
  const row = e.target.closest('tr');
  if (row && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); openSample(Number(row.dataset.index)); }
});
$('search').addEventListener('submit', (e) => { e.preventDefault(); const v = $('search-index').value; if (v !== '') openSample(Number(v)); });
$('d-close').addEventListener('click', () => { state.detail = null; $('detail').hidden = true; });
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.token = $('token').value.trim();
  sessionStorage.setItem('rs-token', state.token);
  $('token-form').hidden = true;
  refresh();
});
window.addEventListener('resize', () => { for (const [id, chart] of Object.entries(state.charts)) chart.setSize({ width: chartWidth(id), height: 220 }); });

refresh();
setInterval(refresh, REFRESH_MS);
