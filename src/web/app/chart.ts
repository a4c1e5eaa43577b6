import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const COLOURS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed'];

/**
 * A bar chart. Values are minor units as bigint; Chart.js draws with numbers, so they are scaled to
 * major units for drawing only (never for a figure a person reads: tables and tooltips format the
 * bigint itself).
 */
export function drawBars(
  canvas: HTMLCanvasElement,
  labels: string[],
  series: Array<{ label: string; values: bigint[]; format: (v: bigint) => string }>,
  digits: number,
): () => void {
  const scale = 10 ** digits;
  const chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.values.map((v) => Number(v) / scale),
        backgroundColor: COLOURS[i % COLOURS.length],
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) =>
              `${item.dataset.label}: ${series[item.datasetIndex].format(series[item.datasetIndex].values[item.dataIndex])}`,
          },
        },
      },
    },
  });
  return () => chart.destroy();
}
