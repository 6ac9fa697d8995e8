// Runs before every test file. Tests never reach AWS: clients only ever talk to local stand-ins.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.LOG_LEVEL ??= 'ERROR';
