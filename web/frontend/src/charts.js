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

export function render(el) {
  try {
    const id = el.getAttribute('data-echarts');
    const block = id && document.getElementById(id);
    if (!block) throw new Error(`no JSON block #${id}`);
    const option = JSON.parse(block.textContent || '{}');
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
