/** The emulator harness itself: moto starts on a free port, answers SSM through AWS SDK v3, and stops. */
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describeWithRealTools, emulatorEnv, Moto, startMoto } from '../helpers/real-tools';

describeWithRealTools('AWS emulator harness', () => {
  let moto: Moto;
  beforeAll(async () => { moto = await startMoto(); });
  afterAll(async () => { await moto?.stop(); });

  test('a parameter written through SDK v3 reads back from the emulator', async () => {
    const env = emulatorEnv(moto.endpoint);
    const ssm = new SSMClient({ region: 'us-west-2', endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await ssm.send(new PutParameterCommand({ Name: '/smoke', Value: 'snap-1', Type: 'String' }));
    expect((await ssm.send(new GetParameterCommand({ Name: '/smoke' }))).Parameter?.Value).toBe('snap-1');
  });
});
