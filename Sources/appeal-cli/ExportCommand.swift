import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "One CSV row per letter: supporter, target, status, attempts, last reply, sent time, Message-ID.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(help: "Only letters in this status: queued, sending, sent, deferred, failed, cancelled or bounced.") var status: LetterStatus?

    func run() async throws {
        let config = try options.loadConfig()
        let database = config.usesPostgres ? nil : try options.openDatabase()
        let output: OutputFile
        do {
            output = try out.map(OutputFile.init(path:)) ?? OutputFile()
            let (campaign, status) = (campaign, status)
            if let database {
                try reporting { () throws(AppealsError) in
                    try database.exportLetters(campaign: campaign, status: status) { try output.write($0) }
                }
            } else {
                try await options.withPostgres(config) { store throws(AppealsError) in
                    try await store.exportLetters(campaign: campaign, status: status) { try output.write($0) }
                }
            }
            try output.finish()
        } catch let failure as OutputFile.Failure {
            printError(failure.description)
            throw ExitCode(failure.isUserError ? 2 : 1)
        }
        // Said only beside the file: into a FIFO or /dev/stdout it would be part of the CSV.
        if let out, output.isRegularFile { print("exported \(campaign) to \(out)") }
    }
}

extension LetterStatus: ExpressibleByArgument {}
