import BackgroundCopy
import Foundation

/// Transfer rates measured by sampling committed bytes over a sliding window (live displays).
///
/// Committed progress moves in checkpoint steps, so the window spans several of them; a count
/// that goes down (a file restarted) starts the measurement over.
struct RateMeter {
    private var samples: [String: [(at: ContinuousClock.Instant, bytes: UInt64)]] = [:]
    let window: Duration

    init(window: Duration = .seconds(6)) {
        self.window = window
    }

    mutating func record(_ key: String, bytes: UInt64, at now: ContinuousClock.Instant = .now) {
        var list = samples[key] ?? []
        if let last = list.last, bytes < last.bytes { list.removeAll() }
        list.append((now, bytes))
        while list.count > 2, list[1].at < now - window { list.removeFirst() }
        samples[key] = list
    }

    /// Bytes per second over the window; `nil` with fewer than two samples half a second apart.
    func rate(_ key: String) -> Double? {
        guard let list = samples[key], let first = list.first, let last = list.last else { return nil }
        let span = first.at.duration(to: last.at)
        guard span >= .milliseconds(500) else { return nil }
        let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        return Double(last.bytes - first.bytes) / seconds
    }

    /// Seconds left at the current rate, when the total is known and bytes are moving.
    func eta(_ key: String, done: UInt64, total: UInt64?) -> Double? {
        guard let total, total >= done, let rate = rate(key), rate > 0 else { return nil }
        return Double(total - done) / rate
    }
}

/// Transfer rates derived from the progress events of the last seconds (one-shot commands such
/// as `list`, which cannot sample over time).
enum EventRates {
    /// Bytes per second of each group with at least two progress events within `window` of now.
    static func recent(_ manager: QueueManager, window: TimeInterval = 15, scan: Int64 = 5000) throws -> [GroupID: Double] {
        let last = try manager.lastEventSequence()
        guard last > 0 else { return [:] }
        let cutoff = Date().addingTimeInterval(-window)
        let events = try manager.recordedEvents(after: max(0, last - scan), limit: Int(scan))
            .filter { $0.kind == .progress && $0.date >= cutoff }
        var rates: [GroupID: Double] = [:]
        for (group, list) in Dictionary(grouping: events, by: \.groupID) {
            guard let first = list.map(\.date).min(), let latest = list.map(\.date).max() else { continue }
            let span = latest.timeIntervalSince(first)
            guard span > 0 else { continue }
            var bytes: UInt64 = 0
            let byFile = Dictionary(grouping: list) { "\($0.jobID?.description ?? "")/\($0.fileIndex ?? -1)" }
            for fileEvents in byFile.values {
                let counts = fileEvents.sorted { $0.sequence < $1.sequence }.compactMap { UInt64($0.detail) }
                if let low = counts.first, let high = counts.last, high > low { bytes += high - low }
            }
            rates[group] = Double(bytes) / span
        }
        return rates
    }
}
