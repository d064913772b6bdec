// The dashboard's charts, drawn from the JSON data island #chart-data (the tables on the page carry
// the same figures when Chart.js is unavailable).
(function () {
  if (!window.Chart) { return; }
  const data = JSON.parse(document.getElementById('chart-data').textContent);
  const blue = '#4a7bd0', green = '#2e9d5b', palette = ['#4a7bd0', '#f0a030', '#2e9d5b', '#9b59b6', '#7f8c8d', '#c0392b'];
  const base = {responsive: true, maintainAspectRatio: false, animation: false, plugins: {legend: {display: false}}};
  const ints = {y: {beginAtZero: true, ticks: {precision: 0}}};
  new Chart(document.getElementById('chart-category'), {type: 'bar',
    data: {labels: data.category.map(x => x[0]), datasets: [{label: '工单', data: data.category.map(x => x[1]), backgroundColor: blue}]},
    options: Object.assign({}, base, {scales: ints})});
  new Chart(document.getElementById('chart-status'), {type: 'doughnut',
    data: {labels: data.status.map(x => x[0]), datasets: [{data: data.status.map(x => x[1]), backgroundColor: palette}]},
    options: Object.assign({}, base, {plugins: {legend: {display: true, position: 'right'}}})});
  new Chart(document.getElementById('chart-weekly'), {type: 'line',
    data: {labels: data.weekly.map(x => x.week.slice(5) + ' 周'), datasets: [
      {label: '受理', data: data.weekly.map(x => x.filed), borderColor: blue, backgroundColor: blue},
      {label: '办结', data: data.weekly.map(x => x.closed), borderColor: green, backgroundColor: green}]},
    options: Object.assign({}, base, {scales: ints, plugins: {legend: {display: true}}})});
})();
