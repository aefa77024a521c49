import BackgroundCopy
import BenchmarkSupport
import Foundation

/// Runs one operation of the benchmarks `count` times outside the benchmark runner, for
/// `valgrind --tool=callgrind`, which counts instructions and is repeatable where timings are not:
///
///     QueueProfile <operation> <library|raw> <count> [full|relaxed] [backlog files]
///
/// `<operation>` is a case of `QueueOperation` (createGroup, addFiles1, status, enumerate, …).
/// Two runs with different counts give the instructions per call: (I(2n) − I(n)) / n.
@main
struct QueueProfile {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4, let operation = QueueOperation.named(arguments[1]), let count = Int(arguments[3]) else {
            print("usage: QueueProfile <operation> <library|raw> <count> [full|relaxed] [backlog files]")
            print("operations: \(QueueOperation.allCases.map { "\($0)" }.joined(separator: ", "))")
            exit(2)
        }
        let durability: QueueManager.Durability = arguments.count > 4 && arguments[4] == "full" ? .full : .relaxed
        let backlog = Filler(files: arguments.count > 5 ? Int(arguments[5]) ?? 1_000 : 1_000)
        let database = DatabaseFile()
        defer { database.remove() }
        let step = try operation.step(arguments[2] == "raw" ? .raw : .library, durability: durability, backlog: backlog, database: database)
        for _ in 0..<count {
            step.prepare()
            step.run()
            step.finish()
        }
    }
}
