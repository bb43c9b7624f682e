// Charts for the statistics pages (dist/charts.js): ECharts with bar, line and pie only.
//
//   <div data-echarts="chart-by-unit" style="…" class="jm-chart"></div>
//   <script type="application/json" id="chart-by-unit">{ …an ECharts option object… }</script>
//
// Every [data-echarts] element is drawn from the JSON block it names, resized with its container, and gets
// data-rendered="true" (or data-render-error="<message>"). window.JmCharts.echarts is the ECharts core.
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  PieChart,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  SVGRenderer,
]);

const FONT = '"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif';

function numbers(datum) {
  if (typeof datum === 'number') return [datum];
  if (Array.isArray(datum)) return datum.filter((v) => typeof v === 'number');
  if (datum && typeof datum === 'object') return numbers(datum.value);
  return [];
}

/** No series holds a number other than 0: a chart would draw nothing, or fake proportions (a donut of zeros
 *  comes out as equal slices). */
export function isEmpty(option) {
  const series = Array.isArray(option.series) ? option.series : option.series ? [option.series] : [];
  return !series.some((s) => (Array.isArray(s.data) ? s.data : []).some((d) => numbers(d).some((v) => v !== 0)));
}

// In place of a chart without data: 暂无数据, and what will appear there (the chart's own label, or
// data-empty="…" on the element).
function showEmpty(el) {
  const what = el.getAttribute('data-empty') || el.getAttribute('aria-label') || '';
  const note = document.createElement('div');
  note.className = 'jm-chart-empty';
  const title = document.createElement('strong');
  title.textContent = '暂无数据';
  note.append(title);
  if (what) {
    const detail = document.createElement('span');
    detail.textContent = `有数据后，这里显示${what}。`;
    note.append(detail);
  }
  el.replaceChildren(note);
  el.setAttribute('data-empty-chart', 'true');
  el.setAttribute('data-rendered', 'true');
}

export function render(el) {
  try {
    const id = el.getAttribute('data-echarts');
    const block = id && document.getElementById(id);
    if (!block) throw new Error(`no JSON block #${id}`);
    const option = JSON.parse(block.textContent || '{}');
    if (isEmpty(option)) {
      showEmpty(el);
      return null;
    }
    const chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({ textStyle: { fontFamily: FONT }, ...option });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => chart.resize()).observe(el);
    el.setAttribute('data-rendered', 'true');
    return chart;
  } catch (err) {
    el.setAttribute('data-render-error', (err && err.message) || String(err));
    console.error('chart:', err);
    return null;
  }
}

export function renderAll(root = document) {
  return [...root.querySelectorAll('[data-echarts]')].filter((el) => !el.hasAttribute('data-rendered')).map(render);
}

export { echarts };

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => renderAll());
} else {
  renderAll();
}
