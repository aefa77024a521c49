import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Paths are taken as given, never normalised on the text: `..` after a symbolic link names
/// another place on the file system than on paper, so any `.` or `..` component is refused.
@Suite("Validation: dot components", .alongside)
struct DotComponentTests {
    @Test(arguments: ["linkdir/../f.bin", "linkdir/./f.bin", "real/../f.bin", "./f.bin"])
    func aLocalPathWithADotOrDotDotComponentIsRefusedNamingThePathAndNothingIsAdded(_ suffix: String) throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("real/inner"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("linkdir"), withDestinationPath: scratch.path("real/inner"))
        let manager = try scratch.open()
        let job = try manager.createGroup(properties: GroupProperties(displayName: "dots")).createJob()
        let local = scratch.directory + "/" + suffix

        let error = #expect(throws: QueueError.self) {
            try job.addFiles([FileSpec(remote: "https://example.test/f.bin", local: local)])
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.value == local)
        #expect(error?.message.contains(local) == true, "\(String(describing: error))")
        #expect(try job.fileCount() == 0)
    }
}
