import ArgumentParser
import BackgroundCopy
import Foundation

extension Run {
    /// The queue named by `--db` or `$BGCOPY_DB`, if it is a `postgres://` URL.
    var postgresURL: String? {
        let location = queue.db ?? ProcessInfo.processInfo.environment["BGCOPY_DB"]
        return location.flatMap { PostgresQueueManager.isURL($0) ? $0 : nil }
    }

    /// `bgcopy run --db postgres://…`: this host's engine on a PostgreSQL queue, one of any number
    /// of hosts draining it, until SIGINT or SIGTERM (exit 130 or 143). Logs on stderr only.
    func runOnPostgres(url: String, configuration: QueueManager.Configuration) async throws {
        let host = self.host ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let trap = SignalTrap()
        defer { trap.restore() }
        let lease = Duration.seconds(leaseSeconds ?? 15)
        try await PostgresQueueManager.withQueue(
            url: url, host: host, leaseDuration: lease, configuration: configuration,
            logger: queue.logger
        ) { manager throws(QueueError) in
            let engine = Task { () -> QueueError? in
                do throws(QueueError) {
                    try await manager.run()
                    return nil
                } catch {
                    return error
                }
            }
            trap.onSignal { engine.cancel() }
            if let error = await engine.value { throw error }
        }
        if let status = trap.exitStatus { throw ExitCode(status.rawValue) }
    }
}
