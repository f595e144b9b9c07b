import Appeals
import ArgumentParser
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "One CSV row per letter: supporter, target, status, attempts, last reply, sent time, Message-ID.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "Write to this file instead of standard output.") var out: String?

    func run() throws {
        let database = try options.openDatabase()
        guard let out else {
            try reporting { () throws(AppealsError) in
                try database.exportLetters(campaign: campaign) { FileHandle.standardOutput.write(Data($0.utf8)) }
            }
            return
        }
        // Written beside the target and renamed, so a reader never sees half an export.
        let temporary = out + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temporary)
        else {
            printError("cannot write \(out)")
            throw ExitCode(2)
        }
        do {
            try reporting { () throws(AppealsError) in
                try database.exportLetters(campaign: campaign) { try handle.write(contentsOf: Data($0.utf8)) }
            }
            try handle.close()
            guard rename(temporary, out) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if error is ExitCode { throw error }
            printError("cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("exported \(campaign) to \(out)")
    }
}
