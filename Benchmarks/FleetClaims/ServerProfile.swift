import PostgresNIO

/// Where a row's server sessions spent the row, and the WAL it wrote: the brief profile that says
/// why a library row is below its raw ceiling.
///
/// Every 10 ms the sampler reads `pg_stat_activity` for the row's database and files each engine's
/// session under what it was doing: `idle` (between transactions: the client's turn),
/// `idle in transaction` (inside one, waiting for the client's next statement: a round trip),
/// `running`, or the wait of an active statement (`Lock:transactionid` is a row lock another
/// transaction holds, `IO:WALSync` a commit's flush, `LWLock:WALWrite` waiting for another
/// session's flush). Sampling costs one small query per 10 ms on the same cores.
struct ServerProfile: Sendable {
    /// Session samples by what the session was doing.
    let samples: [String: Int]
    /// WAL the row wrote, in bytes.
    let walBytes: Int64

    /// Samples the sessions of `client`'s database over `window`.
    static func sample(_ client: PostgresClient, window: Window) async throws -> ServerProfile {
        try await client.withConnection { db in
            try await Task.sleep(until: window.start)
            var first = ""
            for try await lsn in try await db.query("SELECT pg_current_wal_lsn()::text", logger: quiet).decode(String.self) { first = lsn }
            var samples: [String: Int] = [:]
            while ContinuousClock.now < window.end {
                let sessions = try await db.query(
                    """
                    SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                    """, logger: quiet)
                for try await (state, type, event) in sessions.decode((String?, String?, String?).self) {
                    samples[label(state: state, type: type, event: event), default: 0] += 1
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            var wal: Int64 = 0
            let written = try await db.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), \(first)::pg_lsn)::bigint", logger: quiet)
            for try await bytes in written.decode(Int64.self) { wal = bytes }
            return ServerProfile(samples: samples, walBytes: wal)
        }
    }

    private static func label(state: String?, type: String?, event: String?) -> String {
        guard state == "active" else { return state ?? "unknown" }
        guard let type else { return "running" }
        return "\(type):\(event ?? "?")"
    }

    /// The commonest activities, as shares of all samples: `idle 41%, running 20%, …`.
    var summary: String {
        let total = max(1, samples.values.reduce(0, +))
        return samples.sorted { $0.value > $1.value }.prefix(5)
            .map { "\($0.key) \(Int((Double($0.value) * 100 / Double(total)).rounded()))%" }
            .joined(separator: ", ")
    }
}
