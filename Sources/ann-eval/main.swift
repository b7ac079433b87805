import ANNCommands

ToolRunner.main(EvalCommand.self)
