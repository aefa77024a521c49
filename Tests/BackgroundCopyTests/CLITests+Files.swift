import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: adding and listing files", .alone)
struct CLIFileTests {
    static let digest = String(repeating: "ab", count: 32)

    @Test func addAppendsToTheGroupsLastJobAndCreatesOneOnlyWhenThereIsNone() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("files", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a"), "--sha256", Self.digest], scratch)
        try await CLI.ok(["add", id, "https://example.test/b", scratch.path("b")], scratch)
        let files = try await CLI.run(["files", id, "--json"], scratch).objects()
        #expect(files.count == 2)
        #expect(Set(files.compactMap { $0["job"] as? String }).count == 1, "both files went into the one job")
        #expect(files.map { $0["index"] as? Int } == [0, 1])
        #expect(files[0]["remote"] as? String == "https://example.test/a")
        #expect(files[0]["local"] as? String == scratch.path("a"))
        #expect(files[0]["state"] as? String == "queued")
        #expect(files[0]["bytesDone"] as? Int == 0)
        #expect(files[0]["bytesTotal"] is NSNull)
        #expect(files[0]["sha256"] as? String == Self.digest)
        #expect(files[1]["sha256"] is NSNull)
        let info = try await CLI.info(id, scratch)
        #expect((info["jobs"] as? [[String: Any]])?.count == 1)
    }

    @Test func aRelativeLocalPathIsTakenFromTheCurrentDirectory() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("relative", scratch)
        let result = try await CLI.run(["add", id, "https://example.test/a", "./a.bin"], scratch, directory: scratch.directory)
        #expect(result.status == 0, "\(result)")
        // '..' is kept for the library to refuse: through a symbolic link it names another directory.
        let dotDot = try await CLI.run(["add", id, "https://example.test/b", "sub/../b.bin"], scratch, directory: scratch.directory)
        #expect(dotDot.status == 2, "\(dotDot)")
        #expect(dotDot.stderr.contains("sub/../b.bin"), "\(dotDot)")
        let files = try await CLI.run(["files", id, "--json"], scratch).objects()
        let local = try #require(files.first?["local"] as? String)
        #expect(
            URL(fileURLWithPath: local).resolvingSymlinksInPath().path
                == URL(fileURLWithPath: scratch.path("a.bin")).resolvingSymlinksInPath().path)
    }

    @Test func addFromAFileAddsEveryLineWithOptionalDigestsSkippingCommentsAndBlanks() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("list", scratch)
        let list = """
            # mirror set
            https://example.test/one \(scratch.path("one"))

            https://example.test/two\t\(scratch.path("two"))\t\(Self.digest)
            """
        scratch.write("list.txt", Array(list.utf8))
        let output = try await CLI.ok(["add", "list", "--from", scratch.path("list.txt")], scratch)
        #expect(output.hasPrefix("added 2 files"))
        let files = try await CLI.run(["files", id, "--json"], scratch).objects()
        #expect(files.map { $0["local"] as? String } == [scratch.path("one"), scratch.path("two")])
        #expect(files.map { $0["sha256"] as? String } == [nil, Self.digest])
    }

    @Test func addFromStandardInput() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("stdin", scratch)
        let result = try await CLI.run(["add", id, "--from", "-"], scratch, stdin: "https://example.test/x \(scratch.path("x"))\n")
        #expect(result.status == 0, "\(result)")
        #expect(try await CLI.run(["files", id, "--json"], scratch).objects().count == 1)
    }

    @Test(arguments: [
        ("a line with one field", "https://example.test/ok \(Scratch.placeholder)/ok\nhttps://example.test/lonely\n", Int32(2)),
        ("a refused scheme", "https://example.test/ok \(Scratch.placeholder)/ok\nftp://example.test/no \(Scratch.placeholder)/no\n", 2),
        ("a duplicate local path", "https://example.test/1 \(Scratch.placeholder)/same\nhttps://example.test/2 \(Scratch.placeholder)/same\n", 2),
        ("a bad digest", "https://example.test/ok \(Scratch.placeholder)/ok beef\n", 2),
        ("a missing directory", "https://example.test/ok \(Scratch.placeholder)/ok\nhttps://example.test/x \(Scratch.placeholder)/missing/x\n", 1),
    ])
    func addFromAFileAddsNothingWhenAnyLineIsRefused(_ reason: String, _ template: String, _ status: Int32) async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("atomic", scratch)
        try await CLI.ok(["add", id, "https://example.test/first", scratch.path("first")], scratch)
        scratch.write("list.txt", Array(template.replacingOccurrences(of: Scratch.placeholder, with: scratch.directory).utf8))
        let result = try await CLI.run(["add", id, "--from", scratch.path("list.txt")], scratch)
        #expect(result.status == status, "\(reason): \(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: "), "\(reason): \(result)")
        let files = try await CLI.run(["files", id, "--json"], scratch).objects()
        #expect(files.map { $0["local"] as? String } == [scratch.path("first")], "\(reason): nothing was added")
    }

    @Test func addRefusesBothFormsAtOnceAndNeitherForm() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("forms", scratch)
        #expect(try await CLI.run(["add", id, "https://example.test/a", scratch.path("a"), "--from", "x"], scratch).status == 2)
        #expect(try await CLI.run(["add", id, "https://example.test/a"], scratch).status == 2)
        #expect(try await CLI.run(["add", "nosuch", "https://example.test/a", scratch.path("a")], scratch).status == 3)
    }

    @Test func filesPrintsATableAndHidesQueryStrings() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("table", scratch)
        try await CLI.ok(["add", id, "https://example.test/a?sig=TOPSECRET", scratch.path("a")], scratch)
        let table = try await CLI.ok(["files", id], scratch)
        #expect(table.hasPrefix("FILE"))
        #expect(table.contains("queued") && table.contains(scratch.path("a")) && table.contains("https://example.test/a?…"))
        #expect(!table.contains("TOPSECRET"))
        let empty = try await CLI.createGroup("empty", scratch)
        #expect(try await CLI.ok(["files", empty], scratch).contains("no files"))
        #expect(try await CLI.run(["files", empty, "--json"], scratch).objects().isEmpty)
    }
}

extension Scratch {
    /// Stands for the scratch directory in test arguments written before the scratch exists.
    static let placeholder = "@SCRATCH@"
}
