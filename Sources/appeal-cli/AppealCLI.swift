import ArgumentParser
import Foundation

@main
struct AppealCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appeal-cli",
        abstract: "Urgent-appeal letter campaigns: targets, supporters, personalized letters, tracked delivery.",
        subcommands: [
            InitCommand.self, CampaignCommand.self, TargetCommand.self, SupporterCommand.self,
            LetterCommand.self, QueueCommand.self, StatusCommand.self,
        ])

    /// Exit codes are SPEC's: bad arguments are bad input (2), not ArgumentParser's 64.
    static func main() {
        // Databases and letters hold personal data: nothing we create is readable by others.
        umask(0o077)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
