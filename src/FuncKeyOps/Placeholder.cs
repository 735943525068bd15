namespace FuncKeyOps; internal static class Placeholder {}
