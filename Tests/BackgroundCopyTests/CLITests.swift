import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: groups, properties, GROUP resolution and exit codes", .alone)
struct CLITests {
    @Test func createPrintsTheNewGroupsIDAndTheGroupStartsSuspended() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("nightly", scratch)
        #expect(GroupID(id) != nil, "create prints only the ID: \(id)")
        let groups = try await CLI.run(["list", "--all", "--json"], scratch).objects()
        #expect(groups.count == 1)
        #expect(groups.first?["id"] as? String == id)
        #expect(groups.first?["name"] as? String == "nightly")
        #expect(groups.first?["state"] as? String == "suspended")
        #expect(groups.first?["priority"] as? String == "normal")
        #expect(groups.first?["bytesPerSecond"] is NSNull)
    }

    @Test func createStoresPriorityDescriptionForegroundAndAChosenID() async throws {
        let scratch = Scratch()
        let chosen = "aaaaaaaa-1111-4111-8111-111111111111"
        let id = try await CLI.createGroup("updates", scratch, ["--priority", "high", "--description", "weekly", "--id", chosen])
        #expect(id == chosen)
        let info = try await CLI.info(id, scratch)
        #expect(info["priority"] as? String == "high")
        #expect(info["description"] as? String == "weekly")
        let urgent = try await CLI.createGroup("urgent", scratch, ["--foreground"])
        #expect(try await CLI.info(urgent, scratch)["priority"] as? String == "foreground")
        let again = try await CLI.run(["create", "dup", "--id", chosen], scratch)
        #expect(again.status == 2, "a taken ID is a refused value: \(again)")
        #expect(again.stderr.contains(chosen))
    }

    @Test func theDefaultQueueIsCreatedUnderXDGDataHomeWithMode0600() async throws {
        let scratch = Scratch()
        let data = scratch.path("xdg")
        let result = try await CLI.run(["create", "x"], scratch, db: false, environment: ["XDG_DATA_HOME": data])
        #expect(result.status == 0, "\(result)")
        let database = data + "/bgcopy/queue.sqlite"
        let attributes = try FileManager.default.attributesOfItem(atPath: database)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let listed = try await CLI.run(["list", "--json"], scratch, db: false, environment: ["XDG_DATA_HOME": data])
        #expect(try listed.objects().count == 1)
    }

    @Test func withoutXDGDataHomeTheQueueLivesUnderHomeLocalShare() async throws {
        let scratch = Scratch()
        #expect(try await CLI.run(["create", "x"], scratch, db: false).status == 0)
        #expect(FileManager.default.fileExists(atPath: scratch.path(".local/share/bgcopy/queue.sqlite")))
    }

    @Test func bgcopyDBChoosesTheQueueAndDbOverridesIt() async throws {
        let scratch = Scratch()
        let fromEnvironment = scratch.path("env.sqlite")
        #expect(try await CLI.run(["create", "env"], scratch, db: false, environment: ["BGCOPY_DB": fromEnvironment]).status == 0)
        #expect(FileManager.default.fileExists(atPath: fromEnvironment))
        _ = try scratch.open()
        let overridden = try await CLI.run(["list", "--all", "--json"], scratch, environment: ["BGCOPY_DB": fromEnvironment])
        #expect(try overridden.objects().isEmpty, "--db wins over $BGCOPY_DB")
    }

    @Test func aGroupIsNamedByItsIDAUniquePrefixOrAUniqueName() async throws {
        let scratch = Scratch()
        let first = try await CLI.createGroup("alpha", scratch, ["--id", "abcd0001-0000-4000-8000-000000000000"])
        _ = try await CLI.createGroup("beta", scratch, ["--id", "abcd0002-0000-4000-8000-000000000000"])
        #expect(try await CLI.info(first, scratch)["name"] as? String == "alpha")
        #expect(try await CLI.info("ABCD0001", scratch)["id"] as? String == first, "prefixes ignore case")
        #expect(try await CLI.info("alpha", scratch)["id"] as? String == first)
    }

    @Test func anAmbiguousGroupExits2AndListsTheCandidates() async throws {
        let scratch = Scratch()
        let one = try await CLI.createGroup("same", scratch, ["--id", "abcd0001-0000-4000-8000-000000000000"])
        let two = try await CLI.createGroup("same", scratch, ["--id", "abcd0002-0000-4000-8000-000000000000"])
        for text in ["abcd", "same"] {
            let result = try await CLI.run(["info", text], scratch)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("ambiguous") && result.stderr.contains(one) && result.stderr.contains(two))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func anUnknownOrCancelledGroupExits3WithOneErrorLine() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("gone", scratch)
        let unknown = try await CLI.run(["info", "nosuchgroup"], scratch)
        #expect(unknown.status == 3)
        #expect(unknown.stderr.hasPrefix("bgcopy: error: ") && unknown.stderr.contains("nosuchgroup"))
        try await CLI.ok(["cancel", id], scratch)
        for command in ["info", "files", "suspend", "resume", "cancel", "foreground"] {
            let result = try await CLI.run([command, id], scratch)
            #expect(result.status == 3, "\(command): \(result)")
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
        }
    }

    @Test func resumeOfAGroupWithoutFilesExits1WithAHint() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("empty", scratch)
        let result = try await CLI.run(["resume", id], scratch)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no file left to transfer"))
        #expect(result.stderr.contains("hint: "))
        #expect(try await CLI.info(id, scratch)["state"] as? String == "suspended")
    }

    @Test func suspendResumeAndForegroundChangeTheGroup() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("steer", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a")], scratch)
        #expect(try await CLI.ok(["resume", "steer"], scratch).contains("queued"))
        #expect(try await CLI.info(id, scratch)["state"] as? String == "queued")
        try await CLI.ok(["suspend", "steer"], scratch)
        #expect(try await CLI.info(id, scratch)["state"] as? String == "suspended")
        try await CLI.ok(["foreground", "steer"], scratch)
        let info = try await CLI.info(id, scratch)
        #expect(info["priority"] as? String == "foreground")
        #expect((info["statusFlags"] as? [String])?.contains("groupForeground") == true)
    }

    @Test func cancelReportsRetainedAndDiscardedFilesAndTheGroupDisappears() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("doomed", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a")], scratch)
        let output = try await CLI.ok(["cancel", String(id.prefix(6))], scratch)
        #expect(output.contains("cancelled \(id)") && output.contains("discarded 1"), "\(output)")
        #expect(try await CLI.run(["list", "--all", "--json"], scratch).objects().isEmpty)
    }

    @Test func setpropChangesEachPropertyAndKeepsTheOthers() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("props", scratch, ["--description", "kept"])
        try await CLI.ok(
            [
                "setprop", id, "--name", "renamed", "--priority", "low", "--retry-delay", "30s",
                "--no-progress-timeout", "2d", "--notify", "groupDone,progress",
                "--header", "X-Trace: 1", "--header", "X-Api-Key: s3cret",
            ], scratch)
        var info = try await CLI.info(id, scratch)
        #expect(info["name"] as? String == "renamed")
        #expect(info["description"] as? String == "kept")
        #expect(info["priority"] as? String == "low")
        #expect(info["retryDelaySeconds"] as? Int == 30)
        #expect(info["noProgressTimeoutSeconds"] as? Int == 172_800)
        #expect(info["notify"] as? [String] == ["groupDone", "progress"])
        let headers = (info["headers"] as? [[String: String]]) ?? []
        #expect(
            headers == [["name": "X-Trace", "value": "1"], ["name": "X-Api-Key", "value": "***"]],
            "a secret-looking header's value is never printed")
        let text = try await CLI.ok(["info", id], scratch)
        #expect(!text.contains("s3cret"))
        try await CLI.ok(["setprop", id, "--remove-header", "x-trace", "--description", "new"], scratch)
        info = try await CLI.info(id, scratch)
        #expect((info["headers"] as? [[String: String]])?.map { $0["name"] } == ["X-Api-Key"])
        #expect(info["description"] as? String == "new")
    }

    @Test(arguments: [
        ["--retry-delay", "1s"], ["--priority", "urgent"], ["--notify", "bogus"], ["--header", "Authorization: Bearer x"],
        ["--name", ""], ["--retry-delay", "5 parsecs"], [],
    ])
    func setpropRefusesABadValueWithExit2AndChangesNothing(_ options: [String]) async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("strict", scratch)
        let before = try await CLI.run(["info", id, "--json"], scratch).stdout
        let result = try await CLI.run(["setprop", id] + options, scratch)
        #expect(result.status == 2, "\(options): \(result)")
        #expect(!result.stderr.isEmpty)
        #expect(try await CLI.run(["info", id, "--json"], scratch).stdout == before)
    }

    @Test(arguments: [["frobnicate"], ["create"], ["list", "--bogus"], ["add"], ["purge"], ["monitor", "--count", "0"]])
    func usageErrorsExit2(_ arguments: [String]) async throws {
        let result = try await CLI.run(arguments, Scratch())
        #expect(result.status == 2, "\(arguments): \(result)")
        #expect(result.stderr.contains("Error") || result.stderr.contains("error"))
    }

    @Test func helpExits0() async throws {
        let result = try await CLI.run(["--help"], Scratch(), db: false)
        #expect(result.status == 0)
        #expect(result.stdout.contains("Exit codes"))
    }

    @Test func purgeRemovesTombstonesOlderThanTheDuration() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("old", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a")], scratch)
        try await CLI.ok(["cancel", id], scratch)
        #expect(try await CLI.ok(["purge", "--older-than", "7d"], scratch) == "purged 0 tombstones")
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await CLI.ok(["purge", "--older-than", "0s"], scratch) == "purged 1 tombstone")
        #expect(try await CLI.run(["purge", "--older-than", "7 days"], scratch).status == 2)
        let reuse = try await CLI.run(["create", "again", "--id", id], scratch)
        #expect(reuse.status == 2, "a purged group's ID is still never reused")
    }

    @Test func aFileThatIsNotAQueueExits1WithOneClearLine() async throws {
        let scratch = Scratch()
        scratch.write("notes.sqlite", Array(String(repeating: "not a database ", count: 100).utf8))
        let result = try await CLI.run(["list", "--db", scratch.path("notes.sqlite")], scratch, db: false)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: "))
        #expect(result.stderr.split(separator: "\n").count <= 2)
    }

    @Test func listPrintsATableWithShortIDsAndLeavesOutCompleteGroupsUnlessAll() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("tabled", scratch)
        let done = try await CLI.createGroup("finished", scratch)
        try await CLI.ok(["add", done, "file://" + scratch.source("small.src", size: 1000), scratch.path("small")], scratch)
        try await CLI.ok(["resume", done], scratch)
        try await CLI.ok(["run", "--once"], scratch)
        let table = try await CLI.ok(["list"], scratch)
        #expect(table.hasPrefix("ID"))
        #expect(table.contains(String(id.prefix(8))) && table.contains("tabled") && table.contains("suspended"))
        #expect(!table.contains("finished"))
        let all = try await CLI.run(["list", "--all", "--json"], scratch).objects()
        #expect(all.map { $0["state"] as? String } == ["suspended", "complete"])
        #expect(all.last?["filesDone"] as? Int == 1 && all.last?["bytesDone"] as? Int == 1000)
        #expect(all.last?["percent"] as? Int == 100)
    }
}
