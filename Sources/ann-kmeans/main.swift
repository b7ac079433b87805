import ANNCommands

ToolRunner.main(KMeansCommand.self)
