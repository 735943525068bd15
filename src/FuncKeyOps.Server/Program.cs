using FuncKeyOps.Server;

await ServerApp.Build(args).RunAsync();
