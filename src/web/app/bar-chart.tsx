import { useEffect, useRef } from 'preact/hooks';

/** A chart drawn by Chart.js, loaded only by the screens that show one (never the agent's). */
export function BarChart(props: {
  label: string;
  labels: string[];
  series: Array<{ label: string; values: bigint[]; format: (v: bigint) => string }>;
  digits: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const key = JSON.stringify([props.labels, props.series.map((s) => [s.label, s.values.map(String)])]);
  useEffect(() => {
    let destroy: (() => void) | undefined;
    let gone = false;
    void import('./chart').then(({ drawBars }) => {
      if (!gone && canvas.current) destroy = drawBars(canvas.current, props.labels, props.series, props.digits);
    });
    return () => {
      gone = true;
      destroy?.();
    };
  }, [key]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
