import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy add GROUP REMOTE LOCAL` or `bgcopy add GROUP --from FILE` (bitsadmin /addfile,
/// /addfileset): files appended to the group's last job (one is created if it has none), all or
/// nothing in one call.
struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add files to a group's last job (all or nothing).",
        discussion: """
            With --from FILE (or - for stdin), each line is "REMOTE LOCAL [SHA256]", fields separated \
            by spaces or tabs; blank lines and lines starting with # are skipped. A relative LOCAL is \
            taken from the current directory. If any line or file is refused, nothing is added.
            """)

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    @Argument(help: "An http, https or file URL, or an absolute path, to copy from.")
    var remote: String?

    @Argument(help: "Where to put the file (its directory must exist).")
    var local: String?

    @Option(help: ArgumentHelp("The expected SHA-256 of the file (64 hex digits).", valueName: "hex"))
    var sha256: String?

    @Option(help: ArgumentHelp("Read \"REMOTE LOCAL [SHA256]\" lines from this file (- for stdin).", valueName: "file"))
    var from: String?

    func validate() throws {
        if from != nil {
            guard remote == nil, local == nil, sha256 == nil else {
                throw ValidationError("give either REMOTE LOCAL [--sha256 HEX] or --from FILE, not both")
            }
        } else {
            guard remote != nil, local != nil else { throw ValidationError("give REMOTE and LOCAL, or --from FILE") }
        }
    }

    func run() throws {
        let specs: [FileSpec]
        if let from {
            specs = try FileList.parse(FileList.read(from), source: from)
            guard !specs.isEmpty else { throw CLIError.usage("\(from) lists no files") }
        } else if let remote, let local {
            specs = [FileSpec(remote: remote, local: Paths.absolute(local), sha256: sha256)]
        } else {
            specs = []
        }
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        let job = try group.jobs().last ?? group.createJob()
        try job.addFiles(specs)
        Console.line("added \(specs.count) file\(specs.count == 1 ? "" : "s") to group \(group.id) (job \(job.id))")
    }
}

/// The `--from` format: one "REMOTE LOCAL [SHA256]" a line.
enum FileList {
    static func read(_ source: String) throws(CLIError) -> String {
        let data: Data?
        if source == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: source)
        }
        guard let data else { throw CLIError(.failure, "cannot read the file list \(source)") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError.usage("\(source) is not UTF-8 text") }
        return text
    }

    /// Parses every line first, so a malformed one refuses the whole list before anything is added.
    static func parse(_ text: String, source: String) throws(CLIError) -> [FileSpec] {
        var specs: [FileSpec] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 2 || fields.count == 3 else {
                throw CLIError.usage("\(source) line \(number + 1): expected \"REMOTE LOCAL [SHA256]\", found \(fields.count) field(s): \(trimmed)")
            }
            specs.append(FileSpec(remote: fields[0], local: Paths.absolute(fields[1]), sha256: fields.count == 3 ? fields[2] : nil))
        }
        return specs
    }
}
