// What the static backend answers: a small Prometheus-style JSON body for reads, 204 for writes.
// Both backends (nginx and the Node fallback) send the same bytes so results stay comparable.
export const READ_BODY = '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"node","instance":"10.0.0.1:9100"},"value":[1700000000,"1"]}]}}';
export const WRITE_PATH = '/api/v1/write';
