// Draws each <canvas data-chart="ID"> from the JSON in <script id="ID">, with Chart.js.
// The chart repeats the page's data table (the source of truth), so it is hidden from
// assistive technology.
const Chart = window.Chart;

for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  const source = document.getElementById(canvas.dataset.chart);
  if (!Chart || !source) continue;
  const data = JSON.parse(source.textContent);
  const datasets = [
    { label: data.label, data: data.values, borderColor: "#1d70b8", backgroundColor: "#1d70b8", spanGaps: false, tension: 0 },
  ];
  if (data.target !== null && data.target !== undefined) {
    datasets.push({
      label: "Target",
      data: data.labels.map(() => data.target),
      borderColor: "#505a5f",
      borderDash: [6, 4],
      pointRadius: 0,
    });
  }
  new Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets },
    options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
}
