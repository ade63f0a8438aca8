import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from './classify.js';

test('classify follows Linkerd default response classes', () => {
  const cases: [number, number | undefined, string | undefined, 'success' | 'failure'][] = [
    [200, undefined, undefined, 'success'],
    [204, undefined, undefined, 'success'],
    [301, undefined, undefined, 'success'],
    [404, undefined, undefined, 'success'],
    [499, undefined, undefined, 'success'],
    [500, undefined, undefined, 'failure'],
    [503, undefined, undefined, 'failure'],
    [599, undefined, undefined, 'failure'],
    [200, undefined, 'connect_refused', 'failure'],
    [0, undefined, 'stream_reset', 'failure'],
    [200, undefined, '', 'success'],
    // gRPC: the status decides, whatever the HTTP status says.
    [200, 0, undefined, 'success'],
    [200, 1, undefined, 'success'], // Cancelled
    [200, 2, undefined, 'failure'], // Unknown
    [200, 3, undefined, 'success'], // InvalidArgument
    [200, 4, undefined, 'failure'], // DeadlineExceeded
    [200, 5, undefined, 'success'], // NotFound
    [200, 6, undefined, 'success'], // AlreadyExists
    [200, 7, undefined, 'failure'], // PermissionDenied
    [200, 8, undefined, 'success'], // ResourceExhausted
    [200, 9, undefined, 'success'], // FailedPrecondition
    [200, 10, undefined, 'success'], // Aborted
    [200, 11, undefined, 'success'], // OutOfRange
    [200, 12, undefined, 'success'], // Unimplemented
    [200, 13, undefined, 'failure'], // Internal
    [200, 14, undefined, 'failure'], // Unavailable
    [200, 15, undefined, 'failure'], // DataLoss
    [200, 16, undefined, 'success'], // Unauthenticated
    [503, 0, undefined, 'success'],
    [200, 0, 'stream_reset', 'failure'],
  ];
  for (const [status, grpc, error, want] of cases) {
    assert.equal(classify(status, grpc, error), want, `classify(${status}, ${grpc}, ${error})`);
  }
});
