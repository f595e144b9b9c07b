import Foundation
import Testing
import TestSupport

/// A small tmpfs of our own: a real full disk and a real read-only file system.
final class ScratchFileSystem {
    let path: String

    static let available: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("mount-probe-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? ScratchFileSystem.mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe])) == 0 else { return false }
        _ = try? ScratchFileSystem.mount(["-u"], umount: probe)
        return true
    }()

    init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try #require(try Self.mount(["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path]) == 0)
    }

    deinit { _ = try? Self.mount([], umount: path) }

    func remount(readOnly: Bool) throws {
        try #require(try Self.mount(["-o", "remount,\(readOnly ? "ro" : "rw")", path]) == 0)
    }

    /// Fills the file system to the last byte.
    func fill() {
        let filler = path + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: filler) else { return }
        let block = Data(count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
    }

    func empty() { try? FileManager.default.removeItem(atPath: path + "/filler") }

    @discardableResult
    static func mount(_ arguments: [String], umount target: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: target == nil ? "/bin/mount" : "/bin/umount")
        process.arguments = target.map { [$0] } ?? arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Resource faults: read-only database, full disk", .serialized, .enabled(if: ScratchFileSystem.available, "needs root to mount a tmpfs"))
struct ResourceFaultTests {
    @Test("a read-only database: clear error, non-zero exit, queue intact and resumable")
    func readOnlyDatabase() throws {
        let cli = try CLIRunner()
        let disk = try ScratchFileSystem(at: cli.path("disk"), size: "8m")
        try cli.writeConfig(url: "file://\(cli.path("outbox"))", database: "disk/appeals.sqlite")
        try cli.prepareExample()
        #expect(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try disk.remount(readOnly: true)
        let result = try cli.run("send")
        #expect(result.code != 0 && result.code < 64)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("disk/appeals.sqlite"), "\(result.stderr)")
        #expect(!result.stderr.contains("Backtrac") && !result.stderr.contains("Fatal error"))
        let written = (try? FileManager.default.contentsOfDirectory(atPath: cli.path("outbox"))) ?? []
        #expect(written.isEmpty)
        try disk.remount(readOnly: false)
        let retry = try cli.run("send")
        #expect(retry.code == 0)
        #expect(retry.stdout.hasPrefix("sent 95,"))
    }

    @Test("a full disk under the database: clear error, non-zero exit, nothing half-written, resumable")
    func fullDatabaseDisk() throws {
        let cli = try CLIRunner()
        let disk = try ScratchFileSystem(at: cli.path("disk"), size: "32m")
        try cli.writeConfig(url: "file://\(cli.path("outbox"))", database: "disk/appeals.sqlite")
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(1000), "--campaign", CLIRunner.slug).code == 0)
        disk.fill()
        let result = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(result.code == 1)
        #expect(result.stderr.contains("full"), "\(result.stderr)")
        #expect(!result.stderr.contains("Backtrac"))
        disk.empty()
        let retry = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(retry.code == 0, "\(retry.stderr)")
        #expect((try cli.statusJSON()["letters"] as? [String: Int])?["queued"] == 95 + 5000)
    }

    @Test("a full disk under the outbox: the run stops, letters stay queued, and go out once there is room")
    func fullOutboxDisk() throws {
        let cli = try CLIRunner()
        let disk = try ScratchFileSystem(at: cli.path("disk"), size: "4m")
        try cli.writeConfig(url: "file://\(cli.path("disk/outbox"))")
        try cli.prepareExample()
        _ = try cli.run("queue", "--campaign", CLIRunner.slug)
        disk.fill()
        let result = try cli.run("send")
        #expect(result.code == 2)
        #expect(result.stderr.contains("cannot write to"), "\(result.stderr)")
        let letters = try #require(try cli.statusJSON()["letters"] as? [String: Int])
        #expect(letters["queued"] == 95 && letters["sending"] == 0 && letters["failed"] == 0)
        disk.empty()
        #expect(try cli.run("send").stdout.hasPrefix("sent 95,"))
    }
}
