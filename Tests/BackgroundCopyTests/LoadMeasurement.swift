import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The load measurement: a queue of 1,000,000 files in 10,000 groups, built with batch
/// `addFiles`; then its open time, and `groups()`, `status()` and `progress()` latency (p50/p99)
/// while the engine transfers other groups and 16 tasks create (and cancel) groups as fast as
/// they can (one `groups()`, ten `status()` and ten `progress()` calls every 5 ms). A measurement,
/// not a test: it asserts nothing about time, and runs only when asked, as it takes minutes and
/// gigabytes; its figures mean something in a release build:
///
///     BGCOPY_LOAD=1 swift test -c release --no-parallel --filter LoadMeasurement
///
/// `BGCOPY_LOAD_GROUPS` and `BGCOPY_LOAD_FILES` (per group) change the size (10,000 × 100).
@Suite("Load measurement (BGCOPY_LOAD=1)", .alone)
struct LoadMeasurement {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BGCOPY_LOAD"] == "1"))
    func aMillionFilesInTenThousandGroups() async throws {
        let environment = ProcessInfo.processInfo.environment
        let groupCount = environment["BGCOPY_LOAD_GROUPS"].flatMap(Int.init) ?? 10_000
        let filesPerGroup = environment["BGCOPY_LOAD_FILES"].flatMap(Int.init) ?? 100
        let scratch = Scratch()
        for index in 0..<100 {
            try FileManager.default.createDirectory(atPath: scratch.path("d\(index)"), withIntermediateDirectories: true)
        }

        let built = ContinuousClock.now
        do {
            let manager = try scratch.open()
            for group in 0..<groupCount {
                let job = try await manager.createGroup(properties: GroupProperties(displayName: "load \(group)")).createJob()
                try await job.addFiles(
                    (0..<filesPerGroup).map { file in
                        FileSpec(
                            remote: "https://example.test/\(group)/\(file)?sig=x", local: scratch.path("d\(group % 100)/g\(group)-f\(file)"),
                            sizeHint: 1 << 20)
                    })
            }
        }
        let buildTime = built.duration(to: .now)

        let openStart = ContinuousClock.now
        var configuration = scratch.engineConfiguration()
        configuration.changePollInterval = .milliseconds(200)
        let manager = try scratch.open(configuration)
        let openTime = openStart.duration(to: .now)

        let source = scratch.source("source.bin", size: 64 << 10)
        var active: [Group] = []
        for index in 0..<20 {
            let group = try await manager.createGroup(properties: quickRetries("active \(index)"))
            try await group.createJob().addFiles((0..<50).map { FileSpec(remote: source, local: scratch.path("d\($0 % 100)/active\(index)-\($0)")) })
            try await group.resume()
            active.append(group)
        }
        let all = try await manager.groups()
        let engine = RunningEngine(manager)
        let writers = (0..<16).map { writer in
            Task {
                var created = 0
                while !Task.isCancelled {
                    // Each group is cancelled again (a second durable write), so `groups()` keeps
                    // enumerating the 10,000 groups it is measured on, not every group made meanwhile.
                    guard let group = try? await manager.createGroup(properties: GroupProperties(displayName: "writer \(writer)-\(created)")) else { continue }
                    try? await group.cancel()  // measured load only: a failed cancel leaves one more live group
                    created += 1
                }
                return created
            }
        }
        let measuring = ContinuousClock.now
        var groupsTimes: [Duration] = []
        var statusTimes: [Duration] = []
        var progressTimes: [Duration] = []
        var rng = SplitMix64(seed: 7)
        while measuring.duration(to: .now) < .seconds(15) {
            groupsTimes.append(try time { _ = try manager.groups() })
            for _ in 0..<10 {
                let group = all[rng.below(all.count)]
                statusTimes.append(try time { _ = try group.status() })
                progressTimes.append(try time { _ = try group.progress() })
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let window = measuring.duration(to: .now)
        let liveAtEnd = try await manager.groups().count
        for writer in writers { writer.cancel() }
        var created = 0
        for writer in writers { created += await writer.value }
        let transferred = try active.reduce(0) { $0 + (try $1.progress().filesDone) }
        await engine.stop()

        let fileCount = groupCount * filesPerGroup
        let size = (try FileManager.default.attributesOfItem(atPath: scratch.database)[.size] as? Int) ?? 0
        print(
            """
            load: \(fileCount) files in \(groupCount) groups, database \(size >> 20) MiB
            load: built in \(String(format: "%.1f", seconds(buildTime))) s (\(Int(Double(fileCount) / seconds(buildTime))) files/s with batch addFiles of \(filesPerGroup))
            load: open \(milliseconds(openTime)) ms
            load: \(groupsTimes.count) groups() calls (\(all.count) live groups at the start, \(liveAtEnd) at the end), \(statusTimes.count) status() and progress() calls
            load: groups() p50 \(percentile(groupsTimes, 50)) ms, p99 \(percentile(groupsTimes, 99)) ms
            load: status() p50 \(percentile(statusTimes, 50)) ms, p99 \(percentile(statusTimes, 99)) ms
            load: progress() p50 \(percentile(progressTimes, 50)) ms, p99 \(percentile(progressTimes, 99)) ms
            load: 16 writers created and cancelled \(created) groups meanwhile (\(Int(Double(created) / seconds(window))) createGroup + cancel pairs/s)
            load: the engine completed \(transferred) files of 64 KiB in the \(String(format: "%.1f", seconds(window))) s window (\(Int(Double(transferred) / seconds(window))) files/s)
            """)
        #expect(transferred > 0, "the engine transferred while the calls were measured")
        #expect(created > 0, "the writers created groups while the calls were measured")
    }
}

private func time(_ body: () throws -> Void) throws -> Duration {
    let start = ContinuousClock.now
    try body()
    return start.duration(to: .now)
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

private func milliseconds(_ duration: Duration) -> String {
    String(format: "%.2f", seconds(duration) * 1000)
}

private func percentile(_ samples: [Duration], _ percent: Int) -> String {
    let sorted = samples.sorted()
    return milliseconds(sorted[min(sorted.count - 1, sorted.count * percent / 100)])
}
