import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { HealthService } from './health.service';

interface StatusResponse {
  status(code: number): { json(body: unknown): void };
}

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() response: StatusResponse): Promise<void> {
    const report = await this.health.readiness();
    response.status(report.status === 'ok' ? 200 : 503).json(report);
  }
}
