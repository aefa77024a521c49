/// Keeps the `bgcopy_groups{state}` gauges current while the engine runs: counts the live groups
/// by state at once, then every ``interval``, and once more when stopped, so the gauges end on the
/// state the engine left. A count is one read on a pooled reader, never on the writer.
struct GroupCensus: Sendable {
    /// How often the groups are counted.
    static let interval: Duration = .seconds(5)

    private let task: Task<Void, Never>

    /// Starts counting into `metrics`.
    static func start(_ metrics: EngineMetrics, ledger: any EngineLedger) -> GroupCensus {
        GroupCensus(
            task: Task {
                while true {
                    await take(metrics, ledger)
                    do {
                        try await Task.sleep(for: interval)
                    } catch {
                        break  // cancelled: the engine stops
                    }
                }
                await take(metrics, ledger)
            })
    }

    /// Takes the last count and waits for it.
    func stop() async {
        task.cancel()
        await task.value
    }

    private static func take(_ metrics: EngineMetrics, _ ledger: any EngineLedger) async {
        // A database failure skips one sample; the gauges keep their last values until the next.
        guard let census = try? await ledger.groupCensus() else { return }  // a failed read skips one sample (above)
        metrics.record(census: census)
    }
}
