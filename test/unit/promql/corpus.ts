/**
 * Realistic dashboard queries (node-exporter, kube-state-metrics / kubernetes-mixin,
 * VictoriaMetrics dashboards), Grafana variables already substituted. Shared
 * by the unit tests and bench/micro/promql.ts.
 */
export const DASHBOARD_QUERIES: readonly string[] = [
  // node-exporter full
  '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", instance="node1:9100", job="node"}[5m]))',
  'sum by (mode) (irate(node_cpu_seconds_total{instance="node1:9100", job="node", mode!="idle"}[5m])) / on() group_left() scalar(count(count by (cpu) (node_cpu_seconds_total{instance="node1:9100", job="node"})))',
  'node_memory_MemTotal_bytes{instance="node1:9100", job="node"} - node_memory_MemAvailable_bytes{instance="node1:9100", job="node"}',
  '100 - ((node_filesystem_avail_bytes{instance="node1:9100", job="node", mountpoint="/", fstype!="rootfs"} * 100) / node_filesystem_size_bytes{instance="node1:9100", job="node", mountpoint="/", fstype!="rootfs"})',
  'rate(node_network_receive_bytes_total{instance="node1:9100", job="node", device!~"lo|veth.*|docker.*"}[5m]) * 8',
  'irate(node_disk_io_time_seconds_total{instance="node1:9100", job="node", device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|md.+|dasd.+)"}[5m])',
  'node_load1{instance="node1:9100", job="node"} / count without (cpu, mode) (node_cpu_seconds_total{instance="node1:9100", job="node", mode="idle"})',
  'time() - node_boot_time_seconds{instance="node1:9100", job="node"}',
  'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}[6h], 4 * 3600) < 0',
  'max by (instance) (node_hwmon_temp_celsius) > bool 80',
  // kubernetes-mixin / kube-state-metrics
  'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{job="kubelet", metrics_path="/metrics/cadvisor", image!="", container!="POD"}[5m])) / on (namespace, pod) group_left sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu"})',
  'sum(container_memory_working_set_bytes{job="kubelet", metrics_path="/metrics/cadvisor", cluster="prod", namespace="team-a", container!="", image!=""}) by (pod)',
  'sum by (namespace) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) > 0',
  'kube_deployment_status_replicas_available{namespace="team-a"} / kube_deployment_spec_replicas{namespace="team-a"}',
  'increase(kube_pod_container_status_restarts_total{namespace="team-a", container!=""}[1h]) > 3',
  'topk(10, sum by (pod) (rate(container_network_receive_bytes_total{namespace="team-a"}[5m])))',
  'histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket{job="apiserver", verb!~"WATCH|CONNECT"}[5m])))',
  'sum(kube_pod_container_resource_limits{resource="memory"}) by (namespace) / sum(kube_node_status_allocatable{resource="memory"})',
  'label_replace(kube_pod_info{namespace="team-a"}, "node_name", "$1", "node", "(.*)")',
  'kube_pod_owner{owner_kind="ReplicaSet"} * on (replicaset, namespace) group_left(owner_name) topk by (replicaset, namespace) (1, max by (replicaset, namespace, owner_name) (kube_replicaset_owner{job="kube-state-metrics"}))',
  'avg_over_time(kube_job_status_failed{namespace="team-a"}[1d:5m]) > 0',
  'absent(up{job="kube-state-metrics"} == 1)',
  'count(count by (image) (kube_pod_container_info{namespace="team-a"}))',
  'quantile_over_time(0.95, sum by (pod) (rate(container_cpu_cfs_throttled_periods_total[5m]))[1h:1m])',
  // VictoriaMetrics cluster dashboards (PromQL-compatible subset)
  'sum(rate(vm_http_requests_total{job=~"vminsert|vmselect", instance=~".*"}[5m])) by (job, path) > 0',
  'histogram_quantile(0.99, sum(rate(vm_request_duration_seconds_bucket{job="vmselect"}[5m])) by (le, path))',
  'sum(vm_rows{job="vmstorage", type!~"indexdb.*"}) / sum(vm_data_size_bytes{job="vmstorage", type!~"indexdb.*"})',
  'max(vm_free_disk_space_bytes{job="vmstorage"} / ignoring(path) (rate(vm_rows_added_to_storage_total{job="vmstorage"}[1d]) * scalar(sum(vm_data_size_bytes{job="vmstorage", type!~"indexdb.*"}) / sum(vm_rows{job="vmstorage", type!~"indexdb.*"}))))',
  'sum(increase(vm_slow_queries_total{job="vmselect"}[5m] offset 1h)) or vector(0)',
  'rate(process_cpu_seconds_total{job=~"vm.*"}[5m] @ end()) / on(instance) group_left process_cpu_cores_available',
  'count_values("version", vm_app_version{job=~"vm.*"})',
  'sort_desc(sum by (accountID) (vm_tenant_active_timeseries{job="vmstorage"}))',
];
