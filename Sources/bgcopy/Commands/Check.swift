import ArgumentParser
import BackgroundCopy

/// `bgcopy check`: checks the queue's database for corruption (`PRAGMA integrity_check` and
/// `foreign_key_check`). Prints `ok` and exits 0 when sound; prints each problem and exits 1 when not.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the queue's database for corruption (exit 0 when sound, 1 when not).")

    @OptionGroup var queue: QueueOptions

    func run() throws {
        let manager = try queue.openExisting()
        let problems = try manager.checkIntegrity()
        guard problems.isEmpty else {
            problems.forEach(Console.line)
            throw CLIError(
                .failure, "the queue \(manager.path) is damaged: \(problems.count) problem(s) found",
                hint: "keep a copy of the file before you change anything")
        }
        Console.line("ok")
    }
}
