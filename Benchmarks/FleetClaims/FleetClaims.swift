import BackgroundCopy
import Foundation
import Logging

/// Claim→complete cycles per second on PostgreSQL with 1, 4 and 16 engines, each beside its
/// ceiling (the same claim and complete as raw `SKIP LOCKED` SQL through postgres-nio), and the
/// SQLite ledger's figure beside them — in one run, printed as one Markdown table.
///
///     FleetClaims [--seconds 10] [--files 30000]
///
/// An executable, not a package-benchmark target: every row shares one throwaway PostgreSQL
/// cluster started once (seconds of `initdb`), and a row's figure is the throughput of several
/// engines running at once for a fixed time, not a distribution of single-call latencies.
/// All engines run in this one process (PostgreSQL ones on connections of their own), so the
/// engines, the server and the sampler share the machine's cores.
@main
struct FleetClaims {
    static func main() async throws {
        let seconds = option("--seconds") ?? 10
        let groups = max(1, (option("--files") ?? 30_000) / Backlog.filesPerGroup)
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let downloads = scratch + "/downloads"
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        let loadBefore = loadAverage()

        let sqlite = try await sqliteRow(groups: groups, seconds: seconds, directory: scratch)
        let fleet = try await PostgresFleet.start(groups: groups, downloads: downloads)
        defer { try? fleet.cluster.stop() }
        var rows = [Row(name: "SQLite ledger (`.full`)", engines: 1, measured: sqlite, ceiling: nil)]
        for engines in [1, 4, 16] {
            let library = try await fleet.library(engines: engines, seconds: seconds)
            let raw = try await fleet.raw(engines: engines, seconds: seconds)
            rows.append(Row(name: "PostgreSQL ledger", engines: engines, measured: library, ceiling: raw))
            rows.append(Row(name: "PostgreSQL raw `SKIP LOCKED`", engines: engines, measured: raw, ceiling: raw))
        }

        let durability = try fleet.durability()
        print("FleetClaims: claim→complete cycles/s, \(seconds) s per row, each row on a fresh copy of a backlog of")
        print("\(groups * Backlog.filesPerGroup) queued files (groups of \(Backlog.filesPerGroup)); every engine in this one process.")
        print("PostgreSQL: \(durability) (a throwaway cluster on loopback TCP).")
        print("SQLite: durability .full (synchronous=FULL).")
        print("Load average before: \(loadBefore); after: \(loadAverage()).")
        print("")
        print("| row | engines | cycles/s | ratio to raw | WAL bytes/cycle | server sessions (share of samples) |")
        print("|---|--:|--:|--:|--:|---|")
        for row in rows { print(row.line) }
    }

    /// The SQLite ledger's cycles: one engine, as SQLite allows one engine per queue.
    static func sqliteRow(groups: Int, seconds: Int, directory: String) async throws -> Throughput {
        var configuration = QueueManager.Configuration()
        configuration.durability = .full
        let manager = try QueueManager(path: directory + "/queue.sqlite", configuration: configuration, logger: quiet)
        try Backlog.fill(manager, groups: groups, downloads: directory + "/downloads")
        let ledger = manager.transferLedger
        let (cycles, _) = try await Drive.run(
            engines: 1, seconds: seconds, observe: { _ in () },
            engine: { _, window in try await window.count { try await LedgerCycle.run(ledger) } })
        return Throughput(cycles: cycles, seconds: seconds, profile: nil)
    }

    /// The integer after `name` on the command line, if given.
    static func option(_ name: String) -> Int? {
        let arguments = CommandLine.arguments
        guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return nil }
        return Int(arguments[at + 1])
    }

    /// A new directory for the SQLite queue and the never-written local paths, beside the cluster
    /// (both in the system's temporary directory, `TMPDIR`).
    static func scratchDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "bgcopy-fleet.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        return String(cString: made)
    }

    /// The 1, 5 and 15 minute load averages.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// The library's log goes nowhere: nothing it logs at info is part of the figures.
let quiet = Logger(label: "FleetClaims", factory: { _ in SwiftLogNoOpLogHandler() })

/// One line of the table.
struct Row {
    let name: String
    let engines: Int
    let measured: Throughput
    let ceiling: Throughput?

    var line: String {
        let ratio = ceiling.map { String(format: "%.2f", measured.perSecond / max($0.perSecond, 1)) } ?? "—"
        let wal = measured.profile.map { "\(Int64(Double($0.walBytes) / Double(max(measured.cycles, 1))))" } ?? "—"
        let profile = measured.profile?.summary ?? "—"
        return "| \(name) | \(engines) | \(Int(measured.perSecond.rounded())) | \(ratio) | \(wal) | \(profile) |"
    }
}
